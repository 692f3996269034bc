"""ustad A using ustad B as its remote recogniser and voice, over real HTTP on loopback.

B is a real ustad with the real packaged engines serving its OpenAI-compatible API; A has
fake local engines (so an answer says who gave it) and ``remote_stt``/``remote_tts``
pointing at B. A's transcriptions and speech come from B (and A's metrics say so);
with B stopped they keep succeeding on A's local engines and A's breakers open; with B
back on the same port a probe closes them and B answers again.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from tests.api.conftest import connect, make_settings, serve, start_uvicorn
from tests.conftest import LearnerClip
from ustad.app import create_app, uvicorn_options
from ustad.remote_settings import RemoteSttSettings, RemoteTtsSettings
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.services import Services, assemble
from ustad.settings import Settings
from ustad.speech.audio import decode_audio
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.remote import RemoteEngines
from ustad.speech.types import Translation, TranslationRequest
from ustad.store.database import Database

pytestmark = pytest.mark.models

LOCAL_TEXT = "heard locally"


@dataclass
class Served:
    """A uvicorn server on a fixed loopback port that can be stopped and started again."""

    port: int
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    sock: socket.socket | None = None

    def start(self, settings: Settings) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.sock = sock
        app = create_app(settings)
        # Idle connections kept a minute (uvicorn's default is 5 s), so that A's pool
        # keeps one even on a loaded machine.
        options = {**uvicorn_options(settings), "timeout_keep_alive": 60}
        self.server, self.thread = start_uvicorn(app, sock, **options)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None and self.sock is not None
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def ustad_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Settings]]:
    """B: a real ustad with the real engines."""
    settings = make_settings(tmp_path_factory.mktemp("b"))
    settings.runtime.pregenerate = False
    served = Served(free_port())
    served.start(settings)
    yield served, settings
    served.stop()


class SpeechTranslation(FakeTranslator):
    """Stands in for A's speech translation: whatever B heard, the learner said this."""

    async def translate(self, request: TranslationRequest) -> Translation | None:
        return Translation("I want water.", "whisper")


@dataclass
class AppA:
    address: str
    client: httpx.AsyncClient
    english: FakeSynthesizer

    async def metric(self, name: str, provider: str) -> float:
        text = (await self.client.get("/metrics")).text
        prefix = f'{name}{{provider="{provider}"}} '
        for line in text.splitlines():
            if line.startswith(prefix):
                return float(line[len(prefix) :])
        return 0.0


def factory_for_a(english: FakeSynthesizer) -> Any:
    async def build(settings: Settings) -> Services:
        executor = EngineExecutor(2)
        remote = RemoteEngines.from_settings(
            settings.remote_stt,
            settings.remote_tts,
            settings.remote_translation,
            executor.run,
            max_speech_seconds=settings.tts.max_speech_seconds,
        )
        local = FakeTranscriber(
            lambda a, lang, task: transcript_of(LOCAL_TEXT, duration=a.duration)
        )
        speech = SpeechService(
            executor=executor,
            english_stt=local,
            multilingual_stt=local,
            voices={"en": english, "ur": FakeSynthesizer("ur", voice="fake-ur")},
            translators=[FakeTranslator({}), SpeechTranslation({})],
            normalizer=FakeTranslator({}),
            tts=settings.tts,
            tts_cache_bytes=1 << 20,
            translation_cache_entries=10,
            remote=remote,
        )
        database = Database.from_settings(settings.db)
        await database.migrate()
        io = EngineExecutor(1, name="io")
        return assemble(settings, executor, io, speech, PhraseBank.load(), database)

    return build


@pytest.fixture(scope="module")
async def ustad_a(
    ustad_b: tuple[Served, Settings], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AppA]:
    served, _ = ustad_b
    remote = {
        "base_url": f"http://127.0.0.1:{served.port}/v1",
        "retries": 1,
        "backoff_seconds": 0.01,
        "timeout_seconds": 120.0,
        "connect_timeout_seconds": 1.0,
        "breaker_failures": 2,
        "breaker_reset_seconds": 1.0,
    }
    settings = make_settings(tmp_path_factory.mktemp("a")).model_copy(
        update={
            "remote_stt": RemoteSttSettings(**remote),
            "remote_tts": RemoteTtsSettings(**remote, voices={"en": "alloy"}),
        }
    )
    settings.runtime.pregenerate = False
    english = FakeSynthesizer("en")
    app = create_app(settings, services_factory=factory_for_a(english))
    with serve(app, settings) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=300) as client:
            yield AppA(address, client, english)


async def transcribe(a: AppA, clip: bytes) -> str:
    response = await a.client.post(
        "/v1/audio/transcriptions",
        files={"file": ("clip.wav", clip, "audio/wav")},
        data={"model": "whisper-1", "language": "en"},
    )
    assert response.status_code == 200, response.text
    text: str = response.json()["text"]
    return text


async def say(a: AppA, text: str) -> float:
    response = await a.client.post(
        "/v1/audio/speech", json={"input": text, "voice": "en", "response_format": "wav"}
    )
    assert response.status_code == 200, response.text
    return decode_audio(response.content).duration


@pytest.fixture(scope="module")
def mary(learner_clips: list[LearnerClip]) -> bytes:
    return next(c for c in learner_clips if c.text == "SO MARY WENT ON TO STUDY").path.read_bytes()


async def test_a_learn_turn_on_a_is_heard_and_spoken_by_b(ustad_a: AppA, urdu_audio: bytes) -> None:
    a = ustad_a
    async with connect(a.address) as learner:
        await learner.say(urdu_audio)
        you_said = await learner.receive()
    assert you_said.step == "you_said_audio", you_said.data
    # B's real Whisper base wrote the Urdu (A's local recogniser would say LOCAL_TEXT).
    assert LOCAL_TEXT not in you_said.data["response"]
    assert you_said.data["english_sentence"] == "I want water."
    assert you_said.audio
    assert await a.metric("ustad_remote_calls_total", "stt") == 1
    # The English sentence in the reply was said by B's voice, not A's.
    assert await a.metric("ustad_remote_calls_total", "tts") >= 1
    assert a.english.said == []
    assert await a.metric("ustad_remote_fallbacks_total", "stt") == 0


async def test_a_uses_b_loses_it_falls_back_and_gets_it_back(
    ustad_a: AppA, ustad_b: tuple[Served, Settings], mary: bytes
) -> None:
    a = ustad_a
    served, b_settings = ustad_b

    # B answers: real Whisper heard Mary; real Piper said the sentence.
    stt_calls = await a.metric("ustad_remote_calls_total", "stt")
    tts_calls = await a.metric("ustad_remote_calls_total", "tts")
    assert "mary" in (await transcribe(a, mary)).lower()
    assert await say(a, "Good morning, how are you?") > 0.8
    assert a.english.said == []
    assert await a.metric("ustad_remote_calls_total", "stt") == stt_calls + 1
    assert await a.metric("ustad_remote_calls_total", "tts") == tts_calls + 1
    # Every call so far on one kept-alive connection per provider.
    assert await a.metric("ustad_remote_connections_opened_total", "stt") == 1
    assert await a.metric("ustad_remote_connections_reused_total", "stt") == stt_calls

    # B stops mid-run: every call still succeeds, on A's local engines.
    await asyncio.to_thread(served.stop)
    for _ in range(3):
        assert await transcribe(a, mary) == LOCAL_TEXT
    assert await say(a, "The station is closed today.") > 0.3
    assert a.english.said == ["The station is closed today."]
    assert await a.metric("ustad_remote_breaker_state", "stt") == 2  # open
    assert await a.metric("ustad_remote_fallbacks_total", "stt") == 3
    engines = (await a.client.get("/health")).json()["engines"]["remote"]
    assert engines == {
        "stt": {"model": "whisper-1", "breaker": "open"},
        "tts": {"model": "tts-1", "breaker": "closed"},
    }
    stats = (await a.client.get("/v1/stats")).json()["remote"]["stt"]
    assert stats["errors"]["connect"] == 2 and stats["errors"]["breaker_open"] == 1

    # B is back on the same port: after the reset time one probe closes the breaker.
    await asyncio.to_thread(served.start, b_settings)
    await asyncio.sleep(1.1)
    assert "mary" in (await transcribe(a, mary)).lower()
    assert await a.metric("ustad_remote_breaker_state", "stt") == 0
    assert await say(a, "Thank you very much.") > 0.5
    assert a.english.said == ["The station is closed today."]
