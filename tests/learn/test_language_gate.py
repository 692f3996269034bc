"""The English gate's rules, on scripted evidence (the models' side is test_english_gate)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.learn.conftest import Heard
from ustad.learn.events import (
    EnglishHeard,
    RepeatAssessed,
    Target,
    UrduUnderstood,
    Utterance,
    Work,
)
from ustad.learn.language_gate import (
    english_confident,
    english_share,
    needs_english_vote,
    share_zone,
    urdu_doubt,
    votes_english,
)
from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import Settings
from ustad.speech.fakes import FakeTranscriber, transcript_of
from ustad.speech.types import Transcript
from ustad.vocabulary import LanguageGuess, TurnKind

URDU = ("ur", "hi")
CHINESE_FIRST = {"zh": 0.84, "en": 0.12, "ja": 0.02, "hi": 0.002, "ur": 0.001}
"""Mandarin-L1 English as base heard one learner clip: not English first, but English
far above Urdu + Hindi."""


def urdu_text(text: str, *, duration: float = 3.0, logprob: float = -0.5) -> Transcript:
    return replace(transcript_of(text, language="ur", duration=duration), avg_logprob=logprob)


def test_the_share_restricts_the_distribution_to_english_and_urdu() -> None:
    share = english_share(LanguageGuess("zh", 0.84, CHINESE_FIRST), URDU)
    assert share == pytest.approx(0.12 / 0.123)
    noisy_urdu = {"de": 0.2, "en": 0.03, "ur": 0.05, "hi": 0.03}
    assert english_share(LanguageGuess("de", 0.2, noisy_urdu), URDU) == pytest.approx(0.03 / 0.11)
    assert english_share(LanguageGuess("zh", 1.0, {"zh": 1.0}), URDU) == 0.5  # nothing to go on
    assert english_share(LanguageGuess("en", 0.7), URDU) == 1.0  # top language only


@pytest.mark.parametrize(
    ("transcript", "reason"),
    [
        (urdu_text("مجھے پانی چاہیے"), None),
        (urdu_text("مجھے computer چاہیے"), None),  # a loanword in Latin letters
        (urdu_text("  "), "no text"),
        (urdu_text("No, that's tomato."), "not in Urdu script"),
        (urdu_text("5247"), "not in Urdu script"),
        (urdu_text("ایسا ایسا ایسا ایسا"), "repetition loop"),
        (urdu_text("مجھے پانی چاہیے", logprob=-1.8), "mean log-prob -1.80"),
        (urdu_text("ایک دو تین چار پانچ چھ سات آٹھ", duration=1.0), "8 words in 1.0 s"),
    ],
)
def test_what_makes_an_urdu_transcript_implausible(
    transcript: Transcript, reason: str | None
) -> None:
    assert urdu_doubt(transcript, min_logprob=-1.3) == reason


def test_a_confident_english_reading() -> None:
    heard = transcript_of("Then Mike walks to coffee.")
    assert english_confident(replace(heard, avg_logprob=-0.6), min_logprob=-0.8)
    assert not english_confident(replace(heard, avg_logprob=-1.1), min_logprob=-0.8)
    assert not english_confident(replace(heard, no_speech_probability=0.7), min_logprob=-0.8)
    assert not english_confident(transcript_of(""), min_logprob=-0.8)


@pytest.mark.parametrize(
    ("share", "implausible", "sure", "english"),
    [
        (0.6, True, None, True),  # two votes for English already
        (0.3, False, None, False),  # two for Urdu
        (0.6, False, True, True),
        (0.6, False, False, False),
        (0.3, True, True, True),
        (0.3, True, False, False),
    ],
)
def test_two_of_three_votes_decide_the_unsure_band(
    share: float, implausible: bool, sure: bool | None, english: bool
) -> None:
    assert needs_english_vote(share, implausible) == (sure is not None)
    assert votes_english(share, implausible, sure) == english


@pytest.mark.parametrize(
    ("share", "zone"),
    [(0.0, "urdu"), (0.19, "urdu"), (0.2, "band"), (0.94, "band"), (0.95, "english")],
)
def test_a_share_falls_in_one_zone(share: float, zone: str) -> None:
    assert share_zone(share, 0.2, 0.95) == zone


def test_the_english_vote_is_asked_for_when_needed() -> None:
    with pytest.raises(ValueError, match="needed"):
        votes_english(0.6, False, None)


# --- through the processor, with fake engines on real audio -------------------------


def turns_of(speech: SpeechService, **changes: Any) -> TurnProcessor:
    policy = replace(TurnPolicy.from_settings(Settings()), quick_language_id=False, **changes)
    return TurnProcessor(speech, policy)


def at_urdu_step(audio: bytes) -> Work:
    return Work(TurnKind.URDU_STEP, Utterance(audio))


async def test_english_heard_as_chinese_is_english_at_the_urdu_step(
    fake_speech: tuple[SpeechService, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    speech, multilingual = fake_speech
    heard.distribution = CHINESE_FIRST
    outcome = await turns_of(speech).process(at_urdu_step(english_bytes), None, TurnTimer())
    assert outcome.event == EnglishHeard("en")
    assert outcome.language is not None and outcome.language.language == "zh"
    assert multilingual.calls == []  # sure: no Urdu transcription


async def test_unsure_and_not_urdu_script_is_english_without_asking_tiny_en(
    fake_speech: tuple[SpeechService, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    speech, multilingual = fake_speech
    heard.distribution = {"de": 0.5, "en": 0.06, "ur": 0.03, "hi": 0.01}  # share 0.6
    heard.urdu = "No, that's tomato."
    outcome = await turns_of(speech).process(at_urdu_step(english_bytes), None, TurnTimer())
    assert outcome.event == EnglishHeard("en")
    assert multilingual.calls == [("ur", "transcribe")]
    assert isinstance(speech.english_stt, FakeTranscriber)
    assert speech.english_stt.calls == []


@pytest.mark.parametrize(("english_logprob", "english"), [(-0.5, True), (-1.2, False)])
async def test_unsure_with_plausible_urdu_asks_the_english_recogniser(
    fake_speech: tuple[SpeechService, FakeTranscriber],
    heard: Heard,
    english_bytes: bytes,
    english_logprob: float,
    english: bool,
) -> None:
    speech, _ = fake_speech
    heard.distribution = {"de": 0.5, "en": 0.06, "ur": 0.03, "hi": 0.01}  # share 0.6
    engine = speech.english_stt
    assert isinstance(engine, FakeTranscriber)
    engine.respond = lambda audio, language, task: replace(
        transcript_of("then my cocks to coffee"), avg_logprob=english_logprob
    )
    outcome = await turns_of(speech).process(at_urdu_step(english_bytes), None, TurnTimer())
    assert isinstance(outcome.event, EnglishHeard if english else UrduUnderstood)
    assert engine.calls == [("en", "transcribe")]
    assert engine.quick_calls == 1  # only its confidence is read: the cheap reading


async def test_noisy_urdu_heard_as_german_stays_urdu(
    fake_speech: tuple[SpeechService, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    speech, _ = fake_speech
    heard.distribution = {"de": 0.3, "en": 0.03, "ur": 0.05, "hi": 0.03}  # share 0.27
    outcome = await turns_of(speech).process(at_urdu_step(urdu_bytes), None, TurnTimer())
    assert isinstance(outcome.event, UrduUnderstood)
    assert isinstance(speech.english_stt, FakeTranscriber)
    assert speech.english_stt.calls == []  # Urdu plausible and Urdu leaning: no vote needed


TARGET = Target("I want water.", "مجھے پانی چاہیے")


async def test_a_failed_repeat_needs_plausible_urdu_to_start_a_new_sentence(
    fake_speech: tuple[SpeechService, FakeTranscriber], heard: Heard, urdu_bytes: bytes
) -> None:
    speech, _ = fake_speech
    heard.english = "gar car hey"
    heard.distribution = {"hi": 0.5, "ur": 0.3, "en": 0.05}
    heard.urdu = "ایسا ایسا ایسا ایسا"  # a loop, not a sentence
    repeat = Work(TurnKind.ENGLISH_REPEAT, Utterance(urdu_bytes))
    outcome = await turns_of(speech).process(repeat, TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed)
    heard.urdu = "گھر کہاں ہے"
    outcome = await turns_of(speech).process(repeat, TARGET, TurnTimer())
    assert outcome.event == UrduUnderstood(Target("Where is home?", "گھر کہاں ہے", "fake-mt"))


async def test_a_failed_repeat_heard_as_chinese_english_stays_an_attempt(
    fake_speech: tuple[SpeechService, FakeTranscriber], heard: Heard, english_bytes: bytes
) -> None:
    speech, multilingual = fake_speech
    heard.english = "elephants"
    heard.distribution = CHINESE_FIRST
    repeat = Work(TurnKind.ENGLISH_REPEAT, Utterance(english_bytes))
    outcome = await turns_of(speech).process(repeat, TARGET, TurnTimer())
    assert isinstance(outcome.event, RepeatAssessed)
    assert multilingual.calls == []
