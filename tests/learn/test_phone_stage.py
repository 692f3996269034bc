"""The phone stage in a turn (``assessment.phones``), with a fake aligner on real audio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import LearnerClip
from tests.learn.conftest import Heard
from ustad.assess.support import written_words
from ustad.learn.events import NoSpeechHeard, RepeatAssessed, Target, Utterance, Work
from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import Settings
from ustad.speech.fakes import FakeTranscriber
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.phones.types import PhoneAlignmentError, PhoneResult, WordPhones
from ustad.vocabulary import TurnKind

TARGET = Target("I want water.", "مجھے پانی چاہیے")


class CountingPronouncer:
    """Counts the dictionary loads asked of it."""

    def __init__(self) -> None:
        self.loads = 0

    def load(self) -> None:
        self.loads += 1


class FakeAligner:
    """Every written word gets one phone of ``score``; ``fails`` raises instead."""

    def __init__(self, score: int = 90, *, fails: bool = False) -> None:
        self.score = score
        self.fails = fails
        self.asked: list[tuple[str, ...]] = []
        self.pronouncer = CountingPronouncer()

    def align(self, samples: Any, words: Sequence[str]) -> tuple[WordPhones, ...]:
        self.asked.append(tuple(words))
        if self.fails:
            raise PhoneAlignmentError("0.10 s of audio is too short for 9 phones")
        phone = PhoneResult("W", 0.0, 0.1, 1.0, self.score, "ok")
        return tuple(WordPhones(w, (phone,), self.score, "ok") for w in words)


def policy(**changes: Any) -> TurnPolicy:
    base = replace(TurnPolicy.from_settings(Settings()), quick_language_id=False)
    return replace(base, max_audio_seconds=10.0, **changes)


@pytest.fixture
def turns(fake_speech: tuple[SpeechService, FakeTranscriber]) -> TurnProcessor:
    return TurnProcessor(fake_speech[0], policy())


async def attempt(turns: TurnProcessor, audio: bytes, aligner: FakeAligner, **changes: Any) -> Any:
    turns.phones = aligner  # type: ignore[assignment]
    turns.policy = policy(**changes)
    work = Work(TurnKind.ENGLISH_REPEAT, Utterance(audio))
    return await turns.process(work, TARGET, TurnTimer())


def test_warm_up_reads_the_phone_stages_dictionary(turns: TurnProcessor) -> None:
    turns.warm_up()  # no phone stage: nothing to load
    aligner = FakeAligner()
    turns.phones = aligner  # type: ignore[assignment]
    turns.warm_up()
    assert aligner.pronouncer.loads == 1


def test_the_setting_reaches_the_policy() -> None:
    assert TurnPolicy.from_settings(Settings()).phones is False
    on = Settings.model_validate({"assessment": {"phones": True}})
    assert TurnPolicy.from_settings(on).phones is True


async def test_every_attempt_carries_its_phones(turns: TurnProcessor, english_bytes: bytes) -> None:
    aligner = FakeAligner(score=88)
    outcome = await attempt(turns, english_bytes, aligner, phones=True)
    assert isinstance(outcome.event, RepeatAssessed)
    assessment = outcome.event.assessment
    assert aligner.asked == [("I", "want", "water")]
    assert turns.speech.engine_calls["phones"] == 1
    assert [w.word for w in assessment.phones] == ["I", "want", "water"]
    found = assessment.to_dict()
    assert found["pronunciation"] == 88.0
    assert [w["phone_score"] for w in found["words"]] == [88, 88, 88]


async def test_phones_change_neither_the_verdict_nor_the_words(
    turns: TurnProcessor, heard: Heard, english_bytes: bytes
) -> None:
    heard.english = "I want rice"
    alone = {"phone_support": False}  # the phones shown, not the phones as evidence
    off = await attempt(turns, english_bytes, FakeAligner(score=100), phones=False, **alone)
    low = await attempt(turns, english_bytes, FakeAligner(score=3), phones=True, **alone)
    high = await attempt(turns, english_bytes, FakeAligner(score=100), phones=True, **alone)
    verdicts = [o.event.assessment for o in (off, low, high)]
    assert len({a.passed for a in verdicts}) == 1
    assert len({a.words for a in verdicts}) == 1
    assert len({a.scores for a in verdicts}) == 1
    assert verdicts[1].pronunciation == 3.0 and verdicts[0].pronunciation is None


async def test_aligned_once_when_phone_support_asked_first(
    turns: TurnProcessor, fake_speech: tuple[SpeechService, FakeTranscriber], heard: Heard,
    english_bytes: bytes,
) -> None:  # fmt: skip
    heard.english = "I want rice"  # "water" flagged...
    fake_speech[1].support = lambda word: 0.01  # ...and the forced reading does not back it
    aligner = FakeAligner(score=97)
    outcome = await attempt(
        turns, english_bytes, aligner, phones=True, phone_support=True, phone_support_score=90
    )
    assert aligner.asked == [("I", "want", "water")]
    assert turns.speech.engine_calls["phones"] == 1
    assessment = outcome.event.assessment
    assert assessment.passed  # the third opinion backed "water"
    assert [w.score for w in assessment.phones] == [97, 97, 97]


async def test_audio_the_phones_cannot_fit_leaves_the_turn_as_it_was(
    turns: TurnProcessor, english_bytes: bytes
) -> None:
    aligner = FakeAligner(fails=True)
    outcome = await attempt(turns, english_bytes, aligner, phones=True)
    assert isinstance(outcome.event, RepeatAssessed)
    assert outcome.event.assessment.phones == ()
    assert "pronunciation" not in outcome.event.assessment.to_dict()
    assert turns.speech.engine_calls["phones"] == 1


async def test_off_or_nothing_heard_asks_nothing(
    turns: TurnProcessor, heard: Heard, english_bytes: bytes
) -> None:
    aligner = FakeAligner()
    outcome = await attempt(turns, english_bytes, aligner, phones=False)
    assert outcome.event.assessment.phones == ()
    heard.english = ""
    heard.language = ("en", 0.99)  # not Urdu either
    outcome = await attempt(turns, english_bytes, aligner, phones=True)
    assert isinstance(outcome.event, NoSpeechHeard)
    assert aligner.asked == []
    assert turns.speech.engine_calls["phones"] == 0


async def test_a_recording_assessed_over_rest_carries_phones(
    turns: TurnProcessor, english_bytes: bytes
) -> None:
    turns.phones = FakeAligner(score=75)  # type: ignore[assignment]
    turns.policy = policy(phones=True)
    assessment = await turns.assess_recording(english_bytes, "I want water.")
    assert assessment.pronunciation == 75.0


@pytest.fixture(scope="module")
def real_aligner() -> PhoneAligner:
    return PhoneAligner()


@pytest.mark.models
@pytest.mark.parametrize("index", [0, 5])
async def test_the_real_phone_stage_gives_every_target_word_its_phones(
    turns: TurnProcessor,
    heard: Heard,
    learner_clips: list[LearnerClip],
    real_aligner: PhoneAligner,
    index: int,
) -> None:
    clip = learner_clips[index]
    heard.english = clip.text  # the transcript is faked; the phones come from the audio
    turns.phones = real_aligner
    turns.policy = policy(phones=True)
    assessment = await turns.assess_recording(clip.path.read_bytes(), clip.text)
    found = assessment.to_dict()
    targets = [w for w in found["words"] if w["status"] != "inserted"]
    assert [w["word"] for w in targets] == list(written_words(clip.text))
    for word in targets:
        assert word["phones"], word["word"]
        assert 0 <= word["phone_score"] <= 100
        for phone in word["phones"]:
            assert phone["status"] in {"ok", "mispronounced", "missing"}
            assert 0 <= phone["score"] <= 100
            assert phone["start"] <= phone["end"]
            assert (phone["heard"] == "") == (phone["status"] == "ok") or phone[
                "status"
            ] == "missing"
    assert 0.0 <= found["pronunciation"] <= 100.0
