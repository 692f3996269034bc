"""OpenAI's error shape and the OpenAPI document of ``/v1/audio/*`` and ``/v1/models``,
through the official ``openai`` client against a running ustad with fake engines."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from pydantic import SecretStr

from tests.api.conftest import RunningApp, Script, fake_services_factory, make_settings, serve
from ustad.app import create_app
from ustad.settings import AuthSettings, LimitSettings, RuntimeSettings, TtsSettings
from ustad.speech.fakes import FakeSynthesizer
from ustad.speech.stream_encoding import PCM_RATE
from ustad.speech.types import Pcm

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

OPENAI_ERROR = {"message", "type", "param", "code"}


def running(tmp_path: Path, **update: Any) -> Iterator[RunningApp]:
    settings = make_settings(tmp_path).model_copy(update=update)
    script = Script()
    app = create_app(settings, services_factory=fake_services_factory(script))
    with serve(app, settings) as address:
        yield RunningApp(address, settings, script, app)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    limits = LimitSettings(max_message_bytes=64 * 1024)
    runtime = RuntimeSettings(rest_concurrency=1, rest_queue=0, pregenerate=False)
    yield from running(tmp_path_factory.mktemp("plain"), limits=limits, runtime=runtime)


def client(app: RunningApp, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"http://{app.address}/v1", api_key=key, max_retries=0)


def error_of(error: openai.APIStatusError) -> dict[str, Any]:
    assert isinstance(error.body, dict) and set(error.body) == OPENAI_ERROR, error.body
    return error.body


async def test_a_401_has_openai_s_shape(tmp_path: Path) -> None:
    auth = AuthSettings(jwt_secret=SecretStr("s" * 40), api_keys=[SecretStr("operator-key")])
    for app in running(tmp_path, auth=auth):
        async with client(app, key="wrong") as oai:
            with pytest.raises(openai.AuthenticationError) as speech:
                await oai.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
            with pytest.raises(openai.AuthenticationError) as models:
                await oai.models.list()
        async with client(app, key="operator-key") as oai:
            assert [m.id async for m in oai.models.list()]
    assert error_of(speech.value)["code"] == "unauthorized"
    assert error_of(models.value)["code"] == "unauthorized"


async def test_a_413_has_openai_s_shape(plain: RunningApp) -> None:
    # Past the file limit, within the multipart allowance: refused by the route.
    big = ("big.wav", b"RIFF" + b"\0" * (64 * 1024), "audio/wav")
    async with client(plain) as oai:
        for create in (oai.audio.transcriptions.create, oai.audio.translations.create):
            with pytest.raises(openai.APIStatusError) as refused:
                await create(model="whisper-1", file=big)
            assert refused.value.status_code == 413
            assert error_of(refused.value)["code"] == "file_too_large"


async def test_a_429_has_openai_s_shape(tmp_path: Path) -> None:
    for app in running(tmp_path, limits=LimitSettings(client_rate="2/minute")):
        async with client(app) as oai:
            await oai.models.list()
            await oai.models.list()
            with pytest.raises(openai.RateLimitError) as refused:
                await oai.models.list()
    assert error_of(refused.value)["type"] == "rate_limit_error"


async def test_a_busy_engine_slot_is_a_503_and_a_stream_holds_its_slot(plain: RunningApp) -> None:
    text = " ".join(["This sentence is one of many."] * 60)
    async with (
        client(plain) as oai,
        oai.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=text, response_format="pcm"
        ) as streaming,
    ):
        chunks = streaming.iter_bytes()
        assert await anext(chunks)
        with pytest.raises(openai.InternalServerError) as busy:
            await oai.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
    assert busy.value.status_code == 503
    assert busy.value.response.headers["retry-after"]
    assert error_of(busy.value)["code"] == "busy"
    # A server-side condition, said as such: no learner need be connected.
    assert error_of(busy.value)["type"] == "server_error"
    assert "learner" not in error_of(busy.value)["message"]
    async with client(plain) as oai:  # the slot is given back once the stream is gone
        for _ in range(100):
            try:
                await oai.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
                break
            except openai.InternalServerError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the streaming request never gave its slot back")


async def test_404_405_and_validation_under_v1_audio_are_openai_shaped(plain: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{plain.address}") as http:
        missing = await http.post("/v1/audio/voices", json={})
        wrong_method = await http.get("/v1/audio/speech")
        invalid = await http.post("/v1/audio/speech", json={"input": "Hi.", "speed": "fast"})
        # Routes outside OpenAI's API keep their answers.
        elsewhere = await http.get("/v1/nothing-here")
        assessment = await http.post("/v1/assessments", data={"text": "hi"})
    for response, status in ((missing, 404), (wrong_method, 405), (invalid, 400)):
        assert response.status_code == status
        assert set(response.json()["error"]) == OPENAI_ERROR
    assert invalid.json()["error"]["param"] == "speed"
    assert elsewhere.status_code == 404 and elsewhere.json() == {"detail": "Not Found"}
    assert assessment.status_code == 422 and assessment.json()["error"]["param"] == "file"


async def test_the_openapi_document_says_what_the_routes_answer(plain: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{plain.address}") as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    speech = paths["/v1/audio/speech"]["post"]["responses"]
    assert "application/json" not in speech["200"]["content"]
    assert {"audio/mpeg", "audio/ogg", "audio/aac", "audio/flac", "audio/wav", "audio/pcm"} <= set(
        speech["200"]["content"]
    )
    for path in ("/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations"):
        responses = paths[path]["post"]["responses"]
        assert {"400", "401", "413", "429", "503"} <= set(responses) and "422" not in responses
    transcription = paths["/v1/audio/transcriptions"]["post"]["responses"]["200"]["content"]
    assert {"application/json", "text/plain", "text/event-stream"} <= set(transcription)
    assert "422" not in paths["/v1/models"]["get"]["responses"]
    assert "422" in paths["/v1/assessments"]["post"]["responses"]  # not an OpenAI route


async def test_a_client_that_goes_away_stops_the_synthesis(plain: RunningApp) -> None:
    async def engine_calls() -> int:
        async with httpx.AsyncClient(base_url=f"http://{plain.address}") as http:
            calls = (await http.get("/v1/stats")).json()["engine_calls"]
        return int(calls.get("tts_fake-tts", 0))

    sentences = 119
    text = " ".join(f"Sentence {n} is said." for n in range(1, sentences + 1))
    before = await engine_calls()
    async with (
        client(plain) as oai,
        oai.audio.speech.with_streaming_response.create(
            model="tts-1", voice="en", input=text, response_format="pcm"
        ) as streaming,
    ):
        assert await anext(streaming.iter_bytes())
    await asyncio.sleep(0.5)
    said = await engine_calls()
    await asyncio.sleep(0.5)
    assert await engine_calls() == said  # stopped
    assert said - before < sentences / 2  # long before the end of the text


@pytest.mark.parametrize("voice", [None, 123, [], {"name": "x"}])
async def test_an_invalid_voice_names_voice(plain: RunningApp, voice: object) -> None:
    async with httpx.AsyncClient(base_url=f"http://{plain.address}") as http:
        answer = await http.post("/v1/audio/speech", json={"input": "Hi.", "voice": voice})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "voice"


async def test_an_unexpected_failure_is_an_openai_shaped_500_that_says_nothing(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, services_factory=fake_services_factory(Script()))

    async def boom() -> None:
        raise RuntimeError("secret detail of the failure")

    # First, so nothing mounted at / answers it instead.
    app.router.add_api_route("/v1/audio/boom", boom, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())
    app.router.add_api_route("/v1/boom", boom, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())
    with serve(app, settings) as address:
        # The server drops a connection whose request raised: one connection each.
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            openai_route = await http.post("/v1/audio/boom")
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            other_route = await http.post("/v1/boom")
    assert openai_route.status_code == 500
    assert openai_route.json() == {
        "error": {
            "message": "internal error",
            "type": "server_error",
            "param": None,
            "code": "internal_error",
        }
    }
    assert other_route.status_code == 500 and "secret" not in other_route.text


async def test_a_client_that_never_reads_a_stream_gives_its_slot_back(tmp_path: Path) -> None:
    limits = LimitSettings(send_timeout_seconds=0.5)
    runtime = RuntimeSettings(rest_concurrency=1, rest_queue=0, pregenerate=False)
    # About 190 s of pcm at 24 kHz (9 MB): far more than the socket buffers hold.
    body = json.dumps(
        {"input": "This sentence is one of many. " * 130, "response_format": "pcm"}
    ).encode()
    for app in running(tmp_path, limits=limits, runtime=runtime):
        host, port = app.address.split(":")
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect((host, int(port)))
        try:
            stuck.sendall(
                b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )  # and never read
            async with httpx.AsyncClient(base_url=f"http://{app.address}") as http:
                statuses = []
                for _ in range(150):
                    answer = await http.post("/v1/audio/speech", json={"input": "Hi."})
                    statuses.append(answer.status_code)
                    if answer.status_code == 200 and 503 in statuses:
                        break
                    await asyncio.sleep(0.05)
            # Refused while the unread stream held the slot, served once it timed out.
            assert statuses[-1] == 200 and 503 in statuses, statuses
            assert set(statuses) <= {200, 503}
        finally:
            stuck.close()


class Expanding(FakeSynthesizer):
    """A voice that says far more than its text suggests (2 s a character)."""

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        return Pcm(np.full(int(self.sample_rate * 2.0 * len(text)), 1000, np.int16), 22_050)


async def test_speech_is_bounded_by_the_seconds_said_not_only_the_estimate(
    tmp_path: Path,
) -> None:
    for app in running(tmp_path, tts=TtsSettings(max_speech_seconds=10)):
        assert app.app is not None
        app.app.state.services.speech.voices["en"] = Expanding("en", voice="expanding")
        async with httpx.AsyncClient(base_url=f"http://{app.address}") as http:
            too_long = await http.post(
                "/v1/audio/speech", json={"input": "Hi there.", "voice": "en"}
            )
            cut = await http.post(
                "/v1/audio/speech",
                json={"input": "Hi. Yo. Go.", "voice": "en", "response_format": "pcm"},
            )
    assert too_long.status_code == 400
    error = too_long.json()["error"]
    assert error["code"] == "input_too_long" and error["param"] == "input"
    assert cut.status_code == 200
    assert 9.9 < len(cut.content) / 2 / PCM_RATE <= 10.0
