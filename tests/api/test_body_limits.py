"""Request bodies past their limit are refused before they are read or stored."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.api.conftest import RunningApp
from ustad.api.body_limits import BodyLimit, BodyLimitMiddleware


async def raw_request(address: str, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a hand-made HTTP/1.1 request; the status and body of the answer."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize(
    "path", ["/v1/assessments", "/v1/audio/transcriptions", "/v1/audio/translations"]
)
async def test_a_declared_huge_upload_is_refused_before_a_byte_is_read(
    fake_app: RunningApp, path: str
) -> None:
    """200 MiB announced, nothing sent: the answer comes without waiting for the body."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n"
    )
    status, body = await raw_request(fake_app.address, head)
    assert status == 413
    error = json.loads(body)["error"]
    assert error["code"] == "request_too_large"
    assert set(error) == {"message", "type", "param", "code"}  # OpenAI's shape


async def test_a_declared_huge_json_body_is_refused(fake_app: RunningApp) -> None:
    head = (
        "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n"
    )
    status, _ = await raw_request(fake_app.address, head)
    assert status == 413


async def test_a_chunked_upload_is_cut_off_at_the_limit(fake_app: RunningApp) -> None:
    """No Content-Length: the body is counted as it arrives and refused at the limit."""
    limit = fake_app.settings.limits.max_message_bytes
    host, port = fake_app.address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        "POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    )
    chunk = b"\0" * 65536
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    answer = b""
    try:
        writer.write(head.encode() + f"{len(part):x}\r\n".encode() + part + b"\r\n")
        for _ in range(4 * limit // len(chunk)):
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                answer = await asyncio.wait_for(reader.read(4096), timeout=0.01)
            if answer:
                break
        if not answer:
            answer = await asyncio.wait_for(reader.read(4096), timeout=30)
    except ConnectionError:
        pass  # the server closed the socket under us once it had answered
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]


async def test_a_small_json_body_is_served(fake_app: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        response = await http.post("/v1/audio/speech", json={"input": "Hello.", "voice": "en"})
    assert response.status_code == 200


async def test_the_inner_app_never_receives_more_than_the_limit() -> None:
    received: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = BodyLimitMiddleware(app, limits=[BodyLimit("/up", 1000)], default_bytes=100)
    chunks = iter([b"x" * 400] * 10)

    async def receive() -> Message:
        return {"type": "http.request", "body": next(chunks), "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": "/up/file", "headers": []}
    await middleware(scope, receive, send)
    assert sum(received) <= 1000
    assert sent[0]["status"] == 413
    assert middleware.limit_for("/elsewhere") == 100


async def test_speech_past_the_length_cap_is_refused_before_synthesis(
    fake_app: RunningApp,
) -> None:
    slow = {"input": "a" * 4096, "voice": "en", "speed": 0.25}
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        before = (await http.get("/v1/stats")).json()["engine_calls"]
        refused = await http.post("/v1/audio/speech", json=slow)
        after = (await http.get("/v1/stats")).json()["engine_calls"]
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "input_too_long"
    assert after == before  # nothing was synthesised


async def test_speech_cap_counts_the_spoken_form(fake_app: RunningApp) -> None:
    # 4000 digits fit the character limit but are 4000 words said digit by digit.
    digits = {"input": "7" * 4000, "voice": "en"}
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        refused = await http.post("/v1/audio/speech", json=digits)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "input_too_long"


@pytest.mark.parametrize(
    "body",
    [
        '{"input": "hello", "speed": 1e309}',
        '{"input": "hello", "speed": NaN}',
        '{"input": "hello", "speed": -Infinity}',
        '{"input": "hello", "model": Infinity}',
        '{"input": ""}',
    ],
)
async def test_invalid_values_are_a_clear_error_never_a_500(
    fake_app: RunningApp, body: str
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        response = await http.post(
            "/v1/audio/speech", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400  # OpenAI's status for an invalid value
    error = response.json()["error"]
    assert error["code"] == "invalid_value" and error["param"]
    assert "Infinity" not in error["message"] and "1e309" not in error["message"]


@pytest.mark.parametrize("text", ["hello\x00world", "a\x1bb", "bell\x07", "c1\x85x"])
async def test_control_characters_are_a_400_never_a_500(fake_app: RunningApp, text: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        response = await http.post("/v1/audio/speech", json={"input": text, "voice": "en"})
        fine = await http.post("/v1/audio/speech", json={"input": "Line one.\nLine two."})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert fine.status_code == 200


@pytest.mark.parametrize("text", ["<speak></speak>", "👍🎉", "**<b></b>**"])
async def test_markup_or_emoji_alone_has_nothing_to_say(fake_app: RunningApp, text: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        response = await http.post("/v1/audio/speech", json={"input": text, "voice": "en"})
        tagged = await http.post(
            "/v1/audio/speech", json={"input": '<speak>Hi <break time="1s"/> there</speak>'}
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_input"
    assert tagged.status_code == 200


@pytest.mark.parametrize("text", ["...", "$", "👍", " - "])
async def test_a_target_with_no_words_is_a_400_before_any_audio_work(
    fake_app: RunningApp, text: str
) -> None:
    files = {"file": ("a.wav", b"RIFF" + b"\0" * 64, "audio/wav")}
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        before = (await http.get("/v1/stats")).json()["engine_calls"]
        refused = await http.post("/v1/assessments", files=files, data={"text": text})
        after = (await http.get("/v1/stats")).json()["engine_calls"]
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == "text"
    assert after == before
