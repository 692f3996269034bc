"""Fake engines on real audio for the learn layer's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LearnerClip, UrduClip
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.settings import TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.types import Audio, Task, Transcript
from ustad.vocabulary import LanguageGuess


class Heard:
    """What the fake recognisers return next."""

    def __init__(self) -> None:
        self.english = "I want water"
        self.urdu = "مجھے پانی چاہیے"
        self.language = ("ur", 0.9)
        self.distribution: dict[str, float] | None = None
        """The full window's probabilities (None: only ``language``)."""
        self.quick: dict[str, float] | None = None
        """The short window's probabilities (None: the same answer as the full window)."""
        self.looks: list[str] = []

    def english_stt(self, audio: Audio, language: str | None, task: Task) -> Transcript:
        return transcript_of(self.english, duration=audio.duration)

    def urdu_stt(self, audio: Audio, language: str | None, task: Task) -> Transcript:
        return transcript_of(self.urdu, language=language or "ur", duration=audio.duration)


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def fake_speech(heard: Heard) -> Iterator[tuple[SpeechService, FakeTranscriber]]:
    """A speech service over fake engines that answer what ``heard`` says."""

    class Multilingual(FakeTranscriber):
        def detect_language(
            self, audio: Audio, *, short_window: bool = False, english_attempt: bool = False
        ) -> LanguageGuess:
            look = "short" if short_window else "full"
            heard.looks.append(f"{look}:attempt" if english_attempt else look)
            if short_window and heard.quick is not None:
                top = dict(sorted(heard.quick.items(), key=lambda kv: -kv[1]))
                best = next(iter(top))
                return LanguageGuess(best, top[best], top)
            if not short_window and heard.distribution is not None:
                best = max(heard.distribution, key=heard.distribution.__getitem__)
                return LanguageGuess(best, heard.distribution[best], heard.distribution)
            return LanguageGuess(heard.language[0], heard.language[1], dict([heard.language]))

    multilingual = Multilingual(heard.urdu_stt)
    translator = FakeTranslator(
        {"مجھے پانی چاہیے": "I want water.", "گھر کہاں ہے": "Where is home?"}
    )
    executor = EngineExecutor(1)
    speech = SpeechService(
        executor=executor,
        english_stt=FakeTranscriber(heard.english_stt),
        multilingual_stt=multilingual,
        voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur")},
        translators=[translator],
        normalizer=translator,
        tts=TtsSettings(),
        tts_cache_bytes=1 << 20,
        translation_cache_entries=10,
    )
    yield speech, multilingual
    executor.shutdown()


@pytest.fixture(scope="module")
def urdu_bytes(urdu_clips: list[UrduClip]) -> bytes:
    return urdu_clips[1].path.read_bytes()


@pytest.fixture(scope="module")
def english_bytes(learner_clips: list[LearnerClip]) -> bytes:
    return learner_clips[2].path.read_bytes()
