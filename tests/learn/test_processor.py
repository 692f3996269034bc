"""Turn processing with fake recognisers on real audio: the tutoring decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from tests.learn.conftest import Heard
from ustad.learn.events import (
    EnglishHeard,
    InputRejected,
    NoSpeechHeard,
    NoTarget,
    RepeatAssessed,
    Target,
    UrduUnderstood,
    Utterance,
    Work,
)
from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import Settings
from ustad.speech.fakes import FakeTranscriber
from ustad.speech.phones.types import PhoneAlignmentError, PhoneResult, WordPhones
from ustad.speech.types import Audio, Task, Transcript
from ustad.vocabulary import ErrorCode, TurnKind

TARGET = Target("I want water.", "مجھے پانی چاہیے")


def urdu(audio: bytes) -> Work:
    return Work(TurnKind.URDU_STEP, Utterance(audio))


def repeat(audio: bytes) -> Work:
    return Work(TurnKind.ENGLISH_REPEAT, Utterance(audio))


def policy(**changes: Any) -> TurnPolicy:
    """The default policy, without the short-window language look unless asked for."""
    return replace(TurnPolicy.from_settings(Settings()), **{"quick_language_id": False, **changes})


@pytest.fixture
def processor(
    fake_speech: tuple[SpeechService, FakeTranscriber],
) -> tuple[TurnProcessor, FakeTranscriber]:
    speech, multilingual = fake_speech
    return TurnProcessor(speech, policy(max_audio_seconds=10.0)), multilingual


async def test_urdu_understood_with_both_translations(
    processor: tuple[TurnProcessor, FakeTranscriber], urdu_bytes: bytes
) -> None:
    turns, _ = processor
    timer = TurnTimer()
    outcome = await turns.process(urdu(urdu_bytes), None, timer)
    assert outcome.event == UrduUnderstood(Target("I want water.", "مجھے پانی چاہیے", "fake-mt"))
    assert outcome.kind == "urdu" and outcome.transcript == "مجھے پانی چاہیے"
    assert {"decode", "vad", "stt", "translate"} <= set(timer.as_dict())


async def test_hindi_is_decoded_as_urdu(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.language = ("hi", 0.6)
    outcome = await turns.process(urdu(urdu_bytes), None, TurnTimer())
    assert isinstance(outcome.event, UrduUnderstood)
    assert multilingual.calls == [("ur", "transcribe")]
    assert outcome.language is not None and outcome.language.language == "hi"


async def test_confident_english_at_the_urdu_step(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.language = ("en", 0.8)
    outcome = await turns.process(urdu(english_bytes), None, TurnTimer())
    assert outcome.event == EnglishHeard("en")
    assert multilingual.calls == []  # no Urdu transcription wasted


def test_the_policy_has_no_defaults_of_its_own() -> None:
    """Every knob comes from settings, so a default lives in one place."""
    import dataclasses

    fields = dataclasses.fields(TurnPolicy)
    assert all(f.default is dataclasses.MISSING for f in fields)
    tuned = Settings.model_validate({"assessment": {"reconsider_below": 12.0}})
    assert TurnPolicy.from_settings(tuned).reconsider_below == 12.0


async def test_untranslatable_urdu_is_a_clear_error(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, _ = processor
    heard.urdu = "کچھ اور"
    outcome = await turns.process(urdu(urdu_bytes), None, TurnTimer())
    assert isinstance(outcome.event, NoTarget)  # no sentence taught; asked to say it again
    assert outcome.event.code is ErrorCode.NO_VALID_AUDIO
    assert outcome.error is ErrorCode.NO_VALID_AUDIO  # stored as sent
    assert outcome.transcript == "کچھ اور"


async def test_repeat_is_assessed(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "I want butter"
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed)
    statuses = {w.word: w.status.value for w in outcome.event.assessment.words}
    assert statuses["I"] == "correct" and statuses["water"] != "correct"
    assert multilingual.calls == []  # a fair attempt is not checked for Urdu


async def test_urdu_spoken_at_the_repeat_step_starts_a_new_sentence(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, _ = processor
    heard.english = "gar car hey"  # what an English model makes of Urdu
    heard.urdu = "گھر کہاں ہے"
    outcome = await turns.process(repeat(urdu_bytes), TARGET, TurnTimer())
    assert outcome.event == UrduUnderstood(Target("Where is home?", "گھر کہاں ہے", "fake-mt"))
    assert outcome.kind == "urdu"


async def test_a_bad_english_attempt_stays_an_attempt(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, _ = processor
    heard.english = "elephants"
    heard.language = ("en", 0.9)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed)
    assert not outcome.event.assessment.passed


async def test_silence_and_undecodable_audio(
    processor: tuple[TurnProcessor, FakeTranscriber],
) -> None:
    turns, _ = processor
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x00" * 16_000)
    silent = await turns.process(urdu(buffer.getvalue()), None, TurnTimer())
    assert silent.event == NoSpeechHeard()
    junk = await turns.process(urdu(b"junk" * 100), None, TurnTimer())
    assert isinstance(junk.event, InputRejected)
    assert junk.event.code is ErrorCode.UNDECODABLE_AUDIO


async def test_past_the_in_flight_limit_a_turn_is_refused_as_busy(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    import asyncio
    import threading

    turns, _ = processor
    limited = TurnProcessor(turns.speech, policy(max_turns_in_flight=1))
    release = threading.Event()
    started = threading.Event()
    original = heard.english_stt

    def slow(audio: Audio, language: str | None, task: Task) -> Transcript:
        started.set()
        release.wait(10)
        return original(audio, language, task)

    heard.english_stt = slow  # type: ignore[method-assign]
    limited.speech.english_stt = FakeTranscriber(heard.english_stt)
    first = asyncio.create_task(limited.process(repeat(english_bytes), TARGET, TurnTimer()))
    assert await asyncio.to_thread(started.wait, 10)
    refused = await limited.process(repeat(english_bytes), TARGET, TurnTimer())
    assert isinstance(refused.event, InputRejected)
    assert refused.event.code is ErrorCode.BUSY and limited.busy_rejections == 1
    release.set()
    assert isinstance((await first).event, RepeatAssessed)
    assert limited.in_flight == 0


def quick(turns: TurnProcessor) -> TurnProcessor:
    """The same engines with the short-window language look first."""
    return TurnProcessor(turns.speech, policy(max_audio_seconds=10.0, quick_language_id=True))


async def test_a_confident_short_look_at_urdu_is_enough(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.quick = {"hi": 0.67, "ur": 0.1, "en": 0.01}
    outcome = await quick(turns).process(urdu(urdu_bytes), None, TurnTimer())
    assert isinstance(outcome.event, UrduUnderstood)
    assert outcome.language is not None
    assert (outcome.language.language, outcome.language.probability) == ("hi", 0.67)
    assert heard.looks == ["short"]
    assert multilingual.calls == [("ur", "transcribe")]


async def test_an_unsure_short_look_asks_the_full_window(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.quick = {"en": 0.45, "ur": 0.3, "hi": 0.2}  # English, but not sure of it
    heard.language = ("en", 0.8)
    outcome = await quick(turns).process(urdu(english_bytes), None, TurnTimer())
    assert outcome.event == EnglishHeard("en")
    assert heard.looks == ["short", "full"]
    assert multilingual.calls == []


async def test_a_short_look_sure_of_english_at_the_urdu_step_is_enough(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.quick = {"de": 0.5, "en": 0.45, "ur": 0.01}  # English share 0.978
    heard.language = ("ur", 0.9)  # the full window would say otherwise: never asked
    outcome = await quick(turns).process(urdu(english_bytes), None, TurnTimer())
    assert outcome.event == EnglishHeard("en")
    assert heard.looks == ["short"]
    assert multilingual.calls == []


async def test_a_short_look_far_from_english_decides_urdu_without_a_confident_top_language(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.quick = {"fa": 0.5, "ur": 0.2, "hi": 0.1, "en": 0.01}  # English share 0.03
    outcome = await quick(turns).process(urdu(urdu_bytes), None, TurnTimer())
    assert isinstance(outcome.event, UrduUnderstood)
    assert heard.looks == ["short"]
    assert multilingual.calls == [("ur", "transcribe")]


async def test_a_short_look_just_short_of_either_threshold_asks_the_full_window(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, _ = processor
    heard.quick = {"ar": 0.5, "ur": 0.4, "en": 0.1}  # English share 0.2: the band's edge
    heard.language = ("ur", 0.9)
    assert isinstance(
        (await quick(turns).process(urdu(urdu_bytes), None, TurnTimer())).event, UrduUnderstood
    )
    assert heard.looks == ["short", "full"]
    heard.looks.clear()
    heard.quick = {"de": 0.5, "en": 0.47, "ur": 0.03}  # English share 0.94, just under 0.95
    heard.language = ("en", 0.9)
    outcome = await quick(turns).process(urdu(urdu_bytes), None, TurnTimer())
    assert outcome.event == EnglishHeard("en")
    assert heard.looks == ["short", "full"]


async def test_a_failed_repeat_that_sounds_nothing_like_urdu_is_not_checked_again(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "elephants"
    heard.quick = {"en": 0.4, "zh": 0.3, "ur": 0.004, "hi": 0.002}  # English share 0.985
    outcome = await quick(turns).process(repeat(english_bytes), TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed)
    # In the window of the attempt's English readings; no full-window language check.
    assert heard.looks == ["short:attempt"]
    assert multilingual.calls == []


async def test_a_failed_repeat_that_may_be_urdu_gets_the_full_look(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, _ = processor
    heard.english = "gar car hey"
    heard.urdu = "گھر کہاں ہے"
    heard.quick = {"en": 0.5, "ur": 0.3}  # not sure either way
    heard.language = ("ur", 0.8)
    outcome = await quick(turns).process(repeat(urdu_bytes), TARGET, TurnTimer())
    assert outcome.event == UrduUnderstood(Target("Where is home?", "گھر کہاں ہے", "fake-mt"))
    # The attempt's look only clears English; the Urdu step's looks decide the rest.
    assert heard.looks == ["short:attempt", "short", "full"]


async def test_without_the_quick_look_only_the_full_window_is_asked(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    turns, _ = processor
    heard.quick = {"ur": 0.9}
    await turns.process(urdu(urdu_bytes), None, TurnTimer())
    assert heard.looks == ["full"]


def english_engine(turns: TurnProcessor) -> FakeTranscriber:
    engine = turns.speech.english_stt
    assert isinstance(engine, FakeTranscriber)
    return engine


async def test_a_clean_attempt_asks_for_no_target_support(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "I want water"
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed) and outcome.event.assessment.passed
    assert multilingual.supported == english_engine(turns).supported == []  # no pass


async def test_a_flagged_word_the_audio_supports_counts_as_said(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "I want rice"  # the recogniser wrote another word for "water"
    multilingual.support = lambda word: 0.9 if word == "water." else 0.1
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    # The default second opinion is the multilingual model's (assessment.support_model).
    assert multilingual.supported == [TARGET.english]
    assert english_engine(turns).supported == []
    assert isinstance(outcome.event, RepeatAssessed)
    assessment = outcome.event.assessment
    assert assessment.passed
    assert {w.word: w.status.value for w in assessment.words}["water"] == "correct"
    assert outcome.transcript == "I want rice"  # what was heard is still shown


@pytest.mark.parametrize(("min_overall", "asked"), [(0.0, True), (50.0, False)])
async def test_an_attempt_far_from_the_target_asks_for_no_support(
    processor: tuple[TurnProcessor, FakeTranscriber],
    heard: Heard,
    english_bytes: bytes,
    min_overall: float,
    asked: bool,
) -> None:
    turns, multilingual = processor
    heard.english = "the weather is nice today"  # another sentence altogether
    heard.language = ("en", 0.99)  # English, so the reconsider check leaves it an attempt
    multilingual.support = lambda word: 0.9
    turns.policy = policy(support_min_overall=min_overall)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert (multilingual.supported == [TARGET.english]) is asked
    assert isinstance(outcome.event, RepeatAssessed)
    if not asked:
        assert not outcome.event.assessment.passed


async def test_without_support_the_flag_stands(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "I want rice"
    multilingual.support = lambda word: 0.9
    turns.policy = policy(target_support=False)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert multilingual.supported == []
    assert isinstance(outcome.event, RepeatAssessed)
    assert not outcome.event.assessment.passed


async def test_the_english_model_can_be_the_second_opinion(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "I want rice"
    engine = english_engine(turns)
    engine.support = lambda word: 0.9
    turns.policy = policy(support_model="english")
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert engine.supported == [TARGET.english] and multilingual.supported == []
    assert isinstance(outcome.event, RepeatAssessed) and outcome.event.assessment.passed


async def test_the_stored_transcript_hides_offensive_hearings(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, _ = processor
    heard.english = "I want arse"
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed)
    assert outcome.transcript == outcome.event.assessment.transcript
    assert "arse" not in (outcome.transcript or "")


class FakePhones:
    """The phone stage's verdict per written word, or an alignment failure."""

    def __init__(self, verdicts: dict[str, tuple[str, int]] | None) -> None:
        self.verdicts = verdicts
        self.asked: list[tuple[str, ...]] = []

    def align(self, samples: Any, words: Sequence[str]) -> tuple[WordPhones, ...]:
        self.asked.append(tuple(words))
        if self.verdicts is None:
            raise PhoneAlignmentError("fewer frames than phones")
        phone = PhoneResult("W", 0.0, 0.1, 1.0, 90, "ok")
        return tuple(
            WordPhones(w, (phone,), *self.verdicts.get(w, (100, "ok")))  # type: ignore[arg-type]
            for w in words
        )


@pytest.mark.parametrize(
    ("verdicts", "passes"),
    [
        ({"water": (97, "ok")}, True),  # the phones of "water" are there
        ({"water": (95, "mispronounced")}, False),  # a phone of it is not
        ({"water": (80, "ok")}, False),  # below assessment.phone_support_score
        (None, False),  # the phones could not be aligned: no evidence
    ],
)
async def test_the_phone_stage_is_the_third_opinion(
    processor: tuple[TurnProcessor, FakeTranscriber],
    heard: Heard,
    english_bytes: bytes,
    verdicts: dict[str, tuple[int, str]] | None,
    passes: bool,
) -> None:
    turns, multilingual = processor
    heard.english = "I want rice"  # tiny.en wrote another word for "water"...
    multilingual.support = lambda word: 0.01  # ...and the forced reading does not back it
    phones = FakePhones(
        None if verdicts is None else {w: (s, st) for w, (s, st) in verdicts.items()}
    )
    turns.phones = phones  # type: ignore[assignment]
    turns.policy = policy(phone_support=True, phone_support_score=90)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert phones.asked == [("I", "want", "water")]
    assert turns.speech.engine_calls["phones"] == 1
    assert isinstance(outcome.event, RepeatAssessed)
    assert outcome.event.assessment.passed is passes
    assert outcome.transcript == "I want rice"  # what was heard is still shown


async def test_an_attempt_still_far_off_after_support_asks_no_phone_stage(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "the weather is nice today"
    heard.language = ("en", 0.99)
    multilingual.support = lambda word: 0.01
    phones = FakePhones({})
    turns.phones = phones  # type: ignore[assignment]
    turns.policy = policy(phone_support=True, phone_support_min_overall=40.0)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert multilingual.supported == [TARGET.english]
    assert phones.asked == []
    assert isinstance(outcome.event, RepeatAssessed) and not outcome.event.assessment.passed
    turns.policy = policy(phone_support=True, phone_support_min_overall=0.0)
    await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert phones.asked == [("I", "want", "water")]


@pytest.mark.parametrize(
    ("forced", "decoded"),
    [
        (0.9, False),  # "water" backed by the forced reading alone
        (0.01, False),  # below the prompted floor: no prompted reading could back it
        (0.1, True),  # between the floors: the prompted reading decides
    ],
)
async def test_the_prompted_reading_is_decoded_only_when_it_can_matter(
    processor: tuple[TurnProcessor, FakeTranscriber],
    heard: Heard,
    english_bytes: bytes,
    forced: float,
    decoded: bool,
) -> None:
    turns, multilingual = processor
    heard.english = "I want rice"
    multilingual.support = lambda word: forced if word == "water." else 0.9
    multilingual.prompted = lambda word: True
    turns.policy = policy(phone_support=False, support_probability=0.25, prompted_probability=0.05)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert multilingual.prompted_decodes == [decoded]
    assert isinstance(outcome.event, RepeatAssessed)
    assert outcome.event.assessment.passed is (forced >= 0.05)
    # Baseline mode always decodes it, with the same verdict.
    multilingual.prompted_decodes.clear()
    turns.policy = policy(
        phone_support=False,
        support_probability=0.25,
        prompted_probability=0.05,
        prompted_when_needed=False,
    )
    again = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert multilingual.prompted_decodes == [True]
    assert isinstance(again.event, RepeatAssessed)
    assert again.event.assessment.passed is outcome.event.assessment.passed


async def test_without_phone_support_the_phone_stage_is_not_asked(
    processor: tuple[TurnProcessor, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    turns, multilingual = processor
    heard.english = "I want rice"
    multilingual.support = lambda word: 0.01
    phones = FakePhones({})
    turns.phones = phones  # type: ignore[assignment]
    turns.policy = policy(phone_support=False)
    outcome = await turns.process(repeat(english_bytes), TARGET, TurnTimer())
    assert phones.asked == []
    assert isinstance(outcome.event, RepeatAssessed) and not outcome.event.assessment.passed
