"""The speech service asks the remote engines first and the local ones when they fail;
the providers' counters reach ``/metrics`` and ``/v1/stats``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.speech.remote.helpers import (
    Scripted,
    ok_json,
    refused,
    speech,
    stt_settings,
    tone,
    translation_settings,
    tts_settings,
    wav_answer,
)
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.speech_service import SpeechService
from ustad.settings import TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.remote import RemoteEngines
from ustad.speech.types import Segment, SpokenText


def service(
    remote: RemoteEngines, executor: EngineExecutor
) -> tuple[SpeechService, FakeSynthesizer]:
    english = FakeSynthesizer("en")
    local = FakeTranscriber(lambda a, lang, task: transcript_of("local words", duration=a.duration))
    speech = SpeechService(
        executor=executor,
        english_stt=local,
        multilingual_stt=local,
        voices={"en": english, "ur": FakeSynthesizer("ur")},
        translators=[FakeTranslator({})],
        normalizer=FakeTranslator({}),
        tts=TtsSettings(audio_format="wav"),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
        remote=remote,
    )
    return speech, english


@pytest.fixture
async def executor() -> AsyncIterator[EngineExecutor]:
    pool = EngineExecutor(2)
    yield pool
    pool.shutdown()


async def test_remote_answers_first_and_local_after_a_failure(executor: EngineExecutor) -> None:
    remote_stt = Scripted([ok_json({"text": "remote words", "language": "en"}), refused])
    remote_tts = Scripted([wav_answer(tone(0.4)), refused])
    routes = {"/v1/audio/transcriptions": remote_stt, "/v1/audio/speech": remote_tts}
    remote = RemoteEngines.from_settings(
        stt_settings(retries=0),
        tts_settings(retries=0),
        translation_settings(),
        executor.run,
        max_speech_seconds=60,
        transport=httpx.MockTransport(lambda request: routes[request.url.path](request)),
    )
    speech, english = service(remote, executor)

    assert (
        await speech.transcribe(speech_clip(), english=True, language="en")
    ).text == "remote words"
    # The provider fails: the local recogniser answers, the turn goes on.
    assert (
        await speech.transcribe(speech_clip(), english=True, language="en")
    ).text == "local words"

    first = await speech.synthesize_segment(Segment("en", "Hello there."))
    assert first.sample_rate == 22_050 and english.said == []  # the remote voice's own rate
    second = await speech.synthesize_segment(Segment("en", "Good night."))
    assert second.sample_rate == english.sample_rate and english.said == ["Good night."]

    calls = speech.stats().engine_calls
    assert calls["remote_stt_english"] == 2 and calls["stt_english_transcribe"] == 1
    assert calls["remote_tts"] == 2 and calls["tts_fake-tts"] == 1

    metrics = ServiceMetrics(speech=speech)
    text = metrics.exposition()[0].decode()
    assert 'ustad_remote_calls_total{provider="stt"} 2.0' in text
    assert 'ustad_remote_fallbacks_total{provider="stt"} 1.0' in text
    assert 'ustad_remote_errors_total{kind="connect",provider="tts"} 1.0' in text
    assert 'ustad_remote_breaker_state{provider="tts"} 0.0' in text
    assert 'ustad_remote_call_seconds_count{provider="stt"} 2.0' in text
    stats = metrics.stats()["remote"]
    assert stats["stt"]["fallbacks"] == 1 and stats["tts"]["calls"] == 2
    await speech.aclose()


async def test_without_remote_providers_nothing_changes(executor: EngineExecutor) -> None:
    speech, english = service(RemoteEngines(), executor)
    assert (await speech.transcribe(speech_clip(), english=True)).text == "local words"
    await speech.synthesize_segment(Segment("en", "Hello."))
    assert english.said == ["Hello."]
    assert not any(kind.startswith("remote") for kind in speech.stats().engine_calls)
    assert ServiceMetrics(speech=speech).stats()["remote"] == {}


def speech_clip():  # type: ignore[no-untyped-def]
    return speech(2.0)


async def test_a_local_stand_in_is_not_cached_so_the_remote_voice_returns(
    executor: EngineExecutor,
) -> None:
    network = Scripted([refused])
    remote = RemoteEngines.from_settings(
        stt_settings(),
        tts_settings(retries=0),
        translation_settings(),
        executor.run,
        max_speech_seconds=60,
        transport=network.transport,
    )
    speech, english = service(remote, executor)
    reply = SpokenText.single("en", "Now repeat after me.")
    during_outage = await speech.speak(reply)
    assert english.said == ["Now repeat after me."]
    # The provider is back: neither the segment nor the reply was kept from the outage.
    network.answers = [wav_answer(tone(0.6))]
    after = await speech.speak(reply)
    assert after != during_outage
    assert speech.stats().engine_calls["remote_tts"] == 2
    # Now the remote voice's reply is cached as usual.
    assert await speech.speak(reply) == after
    assert speech.stats().engine_calls["remote_tts"] == 2
    await speech.aclose()
