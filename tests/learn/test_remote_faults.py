"""Urdu-step turns on real audio with remote STT and translation behind a real loopback
server that is slow, answers 500, resets the connection or sends malformed, non-finite
or deeply nested JSON: every fault costs a fallback to the local engines, never a failed
turn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from tests.speech.remote.fault_server import FaultServer
from tests.speech.remote.helpers import stt_settings, translation_settings
from ustad.learn.events import Target, UrduUnderstood, Utterance, Work
from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import Settings, TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.remote import RemoteEngines
from ustad.speech.types import Translation, TranslationRequest
from ustad.vocabulary import TurnKind

LOCAL_URDU = "مجھے پانی چاہیے"
REMOTE_URDU = "مجھے ریلوے اسٹیشن جانا ہے"
STATION = "I have to go to the railway station."
STT = "/v1/audio/transcriptions"
CHAT = "/v1/chat/completions"


def transcription(path: str) -> bytes:
    return json.dumps({"text": REMOTE_URDU, "language": "urdu"}).encode()


def completion(path: str) -> bytes:
    content = json.dumps({"urdu": REMOTE_URDU, "english": "I have to go to the railway station"})
    return json.dumps(
        {"choices": [{"message": {"role": "assistant", "content": content}}]}
    ).encode()


class SpeechTranslation(FakeTranslator):
    """Stands in for Whisper's speech translation: it hears the audio, whatever the text."""

    async def translate(self, request: TranslationRequest) -> Translation | None:
        return Translation(STATION, "whisper")


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FaultServer]:
    fault = await FaultServer({STT: transcription, CHAT: completion}, slow_seconds=2.0).start()
    yield fault
    await fault.stop()


@pytest.fixture
async def turns(server: FaultServer) -> AsyncIterator[tuple[TurnProcessor, RemoteEngines]]:
    server.modes.clear()
    executor = EngineExecutor(2)
    # Breakers that stay closed here (tests/speech/remote/test_provider.py opens them).
    limits = {"retries": 1, "timeout_seconds": 0.6, "breaker_failures": 100}
    remote = RemoteEngines.from_settings(
        stt_settings(base_url=server.base_url, **limits),
        Settings().remote_tts,
        translation_settings(base_url=server.base_url, **limits),
        executor.run,
        max_speech_seconds=60,
    )
    assert remote.translation is not None
    memory = FakeTranslator({LOCAL_URDU: "I want water."}, name="memory")
    speech = SpeechService(
        executor=executor,
        english_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
        multilingual_stt=FakeTranscriber(
            lambda a, lang, task: transcript_of(LOCAL_URDU, language="ur", duration=a.duration)
        ),
        voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur")},
        translators=[memory, remote.translation, SpeechTranslation({})],
        normalizer=memory,
        tts=TtsSettings(),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=0,
        remote=remote,
    )
    policy = replace(TurnPolicy.from_settings(Settings()), quick_language_id=False)
    yield TurnProcessor(speech, policy), remote
    await speech.aclose()
    executor.shutdown()


async def urdu_turn(processor: TurnProcessor, audio: bytes) -> Target:
    outcome = await processor.process(Work(TurnKind.URDU_STEP, Utterance(audio)), None, TurnTimer())
    assert isinstance(outcome.event, UrduUnderstood), outcome.event
    return outcome.event.target


async def test_a_healthy_provider_answers_on_kept_alive_connections(
    turns: tuple[TurnProcessor, RemoteEngines], server: FaultServer, urdu_bytes: bytes
) -> None:
    processor, remote = turns
    target = await urdu_turn(processor, urdu_bytes)
    assert (target.english, target.provider) == (STATION, "remote")
    await urdu_turn(processor, urdu_bytes)
    assert remote.stt is not None
    stats = remote.stt.provider.stats()
    assert (stats.calls, stats.fallbacks, stats.connections_opened) == (2, 0, 1)
    assert stats.connections_reused == 1


FAULTS = {
    "slow": "timeout",
    "500": "server",
    "reset": "reset",
    "malformed": "malformed",
    "non_finite": "malformed",
    "nested": "malformed",
}
NOT_RETRIED = {"malformed", "non_finite", "nested"}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_faulty_recogniser_costs_a_fallback_not_the_turn(
    turns: tuple[TurnProcessor, RemoteEngines], server: FaultServer, urdu_bytes: bytes, fault: str
) -> None:
    processor, remote = turns
    server.modes[STT] = fault
    target = await urdu_turn(processor, urdu_bytes)
    # The local recogniser heard the sentence and the phrase bank knew it.
    assert (target.english, target.provider) == ("I want water.", "memory")
    assert remote.stt is not None
    stats = remote.stt.provider.stats()
    assert stats.errors == {FAULTS[fault]: 1} and stats.fallbacks == 1
    # Passing faults were tried again; a malformed answer was not.
    assert stats.attempts == (1 if fault in NOT_RETRIED else 2)


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_faulty_translator_costs_a_fallback_not_the_turn(
    turns: tuple[TurnProcessor, RemoteEngines], server: FaultServer, urdu_bytes: bytes, fault: str
) -> None:
    processor, remote = turns
    server.modes[CHAT] = fault
    target = await urdu_turn(processor, urdu_bytes)
    # Remote recognition, then the local speech translation after the remote one failed.
    assert (target.english, target.provider) == (STATION, "whisper")
    assert remote.translation is not None
    stats = remote.translation.provider.stats()
    assert stats.errors == {FAULTS[fault]: 1} and stats.fallbacks == 1
