"""A running ustad over real HTTP/WebSocket, with fake or real engines."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from tests.conftest import REPO_ROOT, LearnerClip, UrduClip
from ustad.app import create_app, uvicorn_options
from ustad.database_settings import DatabaseSettings
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.redis_client import redis_from_settings
from ustad.runtime.redis_tier import RedisTier
from ustad.runtime.speech_service import SpeechService
from ustad.services import Services, assemble
from ustad.settings import (
    AudioStoreSettings,
    LimitSettings,
    Settings,
    SttSettings,
)
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import Audio, Task, Transcript, TranscriptSegment
from ustad.store.database import Database
from ustad.vocabulary import LanguageGuess

URDU_SENTENCE = "مجھے پانی چاہیے"
ENGLISH_SENTENCE = "I want water."


def start_uvicorn(
    app: FastAPI, sock: socket.socket, **config: Any
) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve ``app`` on the bound ``sock`` in a thread; returns once it accepts requests."""
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    return server, thread


@contextmanager
def serve(app: FastAPI, settings: Settings | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port, configured as ``ustad serve``
    runs it; yields ``host:port``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server, thread = start_uvicorn(app, sock, **uvicorn_options(settings or Settings()))
    try:
        yield f"{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass
class Message:
    """A server message and the audio frame that followed it (if it speaks)."""

    data: dict[str, Any]
    audio: bytes | None

    @property
    def step(self) -> str:
        return str(self.data["step"])


class LearnClient:
    """A protocol client over a real WebSocket."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        payload = json.dumps(message) if isinstance(message, dict) else message
        await self.connection.send(payload)

    async def say(self, audio: bytes, mode: str | None = None, **extra: Any) -> None:
        message: dict[str, Any] = {"audio_base64": base64.b64encode(audio).decode(), **extra}
        if mode:
            message["language_mode"] = mode
        await self.send(message)

    async def ack(self, kind: str) -> None:
        await self.send({"type": kind})

    async def receive(self, limit: float = 120) -> Message:
        raw = await asyncio.wait_for(self.connection.recv(), limit)
        assert isinstance(raw, str), "expected a JSON text frame"
        data = json.loads(raw)
        audio = None
        if "audio_format" in data:
            audio = await asyncio.wait_for(self.connection.recv(), limit)
            assert isinstance(audio, bytes), "a speaking step must be followed by audio"
        return Message(data, audio)

    async def nothing_pending(self, wait: float = 0.3) -> bool:
        try:
            await asyncio.wait_for(self.connection.recv(), wait)
        except TimeoutError:
            return True
        return False


@asynccontextmanager
async def connect(address: str, query: str = "") -> AsyncIterator[LearnClient]:
    async with websockets.connect(f"ws://{address}/ws/learn{query}", max_size=None) as ws:
        yield LearnClient(ws)


@pytest.fixture(scope="module")
def urdu_audio(urdu_clips: list[UrduClip]) -> bytes:
    """A real Urdu sentence (Common Voice)."""
    return urdu_clips[0].path.read_bytes()


@pytest.fixture(scope="module")
def english_audio(learner_clips: list[LearnerClip]) -> bytes:
    """A real learner's English sentence (speechocean762)."""
    return learner_clips[2].path.read_bytes()


@dataclass
class Script:
    """What the fake recognisers hear next (tests change it between turns)."""

    english: str = "I want water"
    urdu: str = URDU_SENTENCE
    language: tuple[str, float] = ("ur", 0.9)
    hold: threading.Event | None = None
    """When set, the Urdu recogniser waits for it (a turn held in progress)."""
    started: threading.Event = field(default_factory=threading.Event)
    """Set when the Urdu recogniser is asked (the turn is in progress)."""
    loop: asyncio.AbstractEventLoop | None = None
    """The server's event loop (captured when the services are built)."""
    segments: tuple[str, ...] = ()
    """When set, what the multilingual recogniser streams, one segment at a time."""
    next_segment: threading.Event = field(default_factory=threading.Event)
    """Each streamed segment after the first waits for this (the test sets it)."""
    streamed: list[str] = field(default_factory=list)
    """The segments the recogniser has decoded so far."""
    stream_closed: threading.Event = field(default_factory=threading.Event)
    """Set when the streamed decoding stops (finished or closed)."""


def fake_services_factory(script: Script) -> Any:
    def english(audio: Audio, language: str | None, task: Task) -> Transcript:
        return transcript_of(script.english, duration=audio.duration)

    def multilingual(audio: Audio, language: str | None, task: Task) -> Transcript:
        script.started.set()
        if script.hold is not None:
            script.hold.wait(timeout=60)
        return transcript_of(script.urdu, language="ur", duration=audio.duration)

    class Multilingual(FakeTranscriber):
        def detect_language(
            self, audio: Audio, *, short_window: bool = False, english_attempt: bool = False
        ) -> LanguageGuess:
            lang, prob = script.language
            return LanguageGuess(lang, prob, {lang: prob})

        def stream_segments(
            self, audio: Audio, *, language: str | None = None, task: Task = "transcribe"
        ) -> Iterator[TranscriptSegment]:
            if not script.segments:
                return super().stream_segments(audio, language=language, task=task)
            return decoding()

    def decoding() -> Iterator[TranscriptSegment]:
        try:
            for index, text in enumerate(script.segments):
                if index:
                    assert script.next_segment.wait(timeout=60)
                script.streamed.append(text)
                yield TranscriptSegment(text, float(index), index + 1.0)
        finally:
            script.stream_closed.set()

    async def build(settings: Settings) -> Services:
        script.loop = asyncio.get_running_loop()
        executor = EngineExecutor(2)
        io_executor = EngineExecutor(1, name="io")
        translator = FakeTranslator({URDU_SENTENCE: ENGLISH_SENTENCE})
        # With settings.redis.url, a shared tier as in production (tests: db 15, own prefix).
        redis = redis_from_settings(settings.redis)
        speech = SpeechService(
            executor=executor,
            english_stt=FakeTranscriber(english, language=("en", 1.0)),
            multilingual_stt=Multilingual(multilingual),
            voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur", voice="fake-ur")},
            translators=[translator],
            normalizer=translator,
            tts=settings.tts,
            tts_cache_bytes=8 * 1024 * 1024,
            translation_cache_entries=100,
            shared=RedisTier(redis, settings.redis) if redis is not None else None,
        )
        database = Database.from_settings(settings.db)
        if settings.db.migrate_on_start:
            await database.migrate()
        services = assemble(settings, executor, io_executor, speech, PhraseBank.load(), database)
        services.redis = redis
        return services

    return build


def make_settings(tmp_path: Path, **limits: Any) -> Settings:
    return Settings(
        db=DatabaseSettings(
            url=f"sqlite+aiosqlite:///{tmp_path / 'ustad.db'}", outbox_dir=tmp_path / "outbox"
        ),
        stt=SttSettings(models_dir=REPO_ROOT / "var" / "models"),
        limits=LimitSettings(**limits) if limits else LimitSettings(),
        # Never the repository's var/audio; no background synthesis of the whole
        # phrase bank competing with the tests (tests/api/test_audio_files.py covers it).
        audio_store=AudioStoreSettings(dir=tmp_path / "audio", pregenerate_phrases=False),
    )


@dataclass
class RunningApp:
    """A served app: its address, settings and the fake recognisers' script."""

    address: str
    settings: Settings
    script: Script
    app: FastAPI | None = None


@pytest.fixture
def fake_app(tmp_path: Path) -> Iterator[RunningApp]:
    settings = make_settings(tmp_path, max_audio_seconds=20.0, max_message_bytes=2 * 1024 * 1024)
    script = Script()
    app = create_app(settings, services_factory=fake_services_factory(script))
    with serve(app, settings) as address:
        yield RunningApp(address, settings, script, app)


@pytest.fixture(scope="session")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """ustad with the real packaged engines (loaded once for the whole run)."""
    settings = make_settings(tmp_path_factory.mktemp("real"))
    with serve(create_app(settings), settings) as address:
        yield RunningApp(address, settings, Script())
