"""What a translation must be to be taught: loop-free, no phrase said twice, a sane length."""

from __future__ import annotations

import dataclasses
import math

import pytest

from ustad.settings import TranslationSettings
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.target_guard import (
    TargetGuard,
    confidence_of,
    english_lexicon,
    english_words,
    repeated_phrase,
)
from ustad.speech.whisper.beam_translation import BeamTranslation

GUARD = TargetGuard()


def fault(text: str, seconds: float = 5.5, avg_logprob: float = -1.2) -> str | None:
    return GUARD.fault(text, seconds=seconds, avg_logprob=avg_logprob)


@pytest.mark.parametrize(
    "text",
    [
        # What Whisper base made of the two real Common Voice Urdu clips and their copies.
        "The government and the government and the government are starting to do a lot of work.",
        "The government and the government and the public are starting to do a lot of work.",
        "The road started with the construction of the road and the road was closed.",
        "It's raining and it's raining",
        "I will start the work of the government government of Elawa.",
    ],
)
def test_a_repeated_phrase_is_not_a_target(text: str) -> None:
    assert fault(text) == "repeated phrase"


@pytest.mark.parametrize(
    "text",
    [
        "He is the one who is the one who is the one who is the one",
        "very very very very good",
        "go to go to go to school",
        "hahahahahaha",
    ],
)
def test_a_loop_is_not_a_target(text: str) -> None:
    assert fault(text) == "loop"


def test_too_long_for_the_clip() -> None:
    twelve = "Please give me a glass of cold water and some bread now."
    assert fault(twelve, seconds=2.0) == "too long"  # 12 words > 2 + 4.5 * 2
    assert fault(twelve, seconds=3.0) is None


def test_too_short_for_the_clip() -> None:
    assert fault("Yes.", seconds=8.0) == "too short"  # 1 word < 0.5 * 7
    assert fault("Where is the station?", seconds=8.0) is None
    assert fault("Yes.", seconds=1.5) is None


@pytest.mark.parametrize(
    "text", ["The people are starting to do a lot of", "He went to the", "She is my"]
)
def test_a_sentence_cut_off_is_not_a_target(text: str) -> None:
    assert fault(text, seconds=3.0) == "cut off"


def test_other_scripts_and_empty_texts_are_not_targets() -> None:
    assert fault("The government and the public are starting to work on a low-d辣植") == (
        "not English"
    )
    assert fault("مزدور طبقے") == "not English"
    assert fault("") == "empty"
    assert fault(" ... ") == "empty"


def test_an_unsure_decode_is_not_a_target() -> None:
    assert fault("The sun is shining.", seconds=2.6, avg_logprob=-2.14) == "unsure"
    assert fault("The sun is shining.", seconds=2.6, avg_logprob=-1.14) is None
    strict = TargetGuard(min_logprob=-1.0)
    assert strict.fault("The sun is shining.", seconds=2.6, avg_logprob=-1.14) == "unsure"


@pytest.mark.parametrize(
    "text",
    [
        "This is the world's most beautiful place.",
        "I will start the work at 9 o'clock in the morning.",
        "In the morning and in the evening I walk.",  # only function words come again
        "No, no, I am fine.",
        "I had had enough.",
        "Come in.",
        "Is this for me?",
        "Wi-Fi costs 2.5 dollars.",
    ],
)
def test_a_fine_sentence_is_a_target(text: str) -> None:
    assert fault(text, seconds=3.5) is None


@pytest.fixture(scope="module")
def with_lexicon() -> TargetGuard:
    return TargetGuard(lexicon=english_lexicon())


@pytest.mark.parametrize(
    "text",
    [
        # Whisper base's "translations" of robotic (espeak-ng) Urdu phrase-bank sentences.
        "Subtlal Salam Alaikum",
        "Maybe Shadi Hoshokki.",
        "Mekal Sekham Shorukha Rukha",
        "Yeah, Shadi Shoda.",
        "Hotel Yaha Sekhidli Dube",
    ],
)
def test_urdu_in_latin_letters_is_not_english(with_lexicon: TargetGuard, text: str) -> None:
    assert with_lexicon.fault(text, seconds=2.5, avg_logprob=-1.0) == "not English"
    assert GUARD.fault(text, seconds=2.5, avg_logprob=-1.0) is None  # without the word list


@pytest.mark.parametrize(
    "text",
    [
        "My name is Ali.",
        "Ali and Sara live in Lahore.",
        "Fatima went to Islamabad with Ahmed.",
        "In a long time, the government and the Ubari Law started working on 9-10 jobs.",
        "This is the world's most beautiful place.",
        "I don't know what you're saying.",
        "Please give me one more roti.",
    ],
)
def test_names_and_a_word_of_urdu_are_english_enough(with_lexicon: TargetGuard, text: str) -> None:
    assert with_lexicon.fault(text, seconds=3.5, avg_logprob=-1.0) is None


def test_every_phrase_bank_sentence_would_be_a_target(with_lexicon: TargetGuard) -> None:
    """The 356 sentences learners practise, at a fast and a slow speaking rate."""
    bank = PhraseBank.load(None)
    assert len(bank) >= 300
    refused = []
    for phrase in bank:
        count = len(english_words(phrase.english))
        for rate in (3.0, 1.5):
            seconds = count / rate + 1.0
            reason = with_lexicon.fault(phrase.english, seconds=seconds, avg_logprob=-1.0)
            if reason is not None:
                refused.append((phrase.english, rate, reason))
    assert refused == []


def test_repeated_phrase_names_the_phrase() -> None:
    assert repeated_phrase(english_words("the road and the road")) == ("the", "road")
    assert repeated_phrase(english_words("in the box in the bag")) is None
    assert repeated_phrase(english_words("stop stop")) == ("stop",)


def test_english_words_keep_inner_marks() -> None:
    assert english_words("Don't pay 9.15 for Wi-Fi!") == ["don't", "pay", "9.15", "for", "wi-fi"]


def test_confidence_is_the_geometric_mean_token_probability() -> None:
    assert confidence_of(-1.0) == pytest.approx(math.exp(-1.0), abs=1e-4)
    assert confidence_of(0.0) == 1.0
    assert 0.0 < confidence_of(-5.0) < confidence_of(-1.5) < confidence_of(-1.0) < 1.0


def test_the_defaults_are_the_settings_defaults() -> None:
    settings = TranslationSettings()
    guard = TargetGuard()
    assert (guard.min_logprob, guard.max_words_per_second, guard.min_words_per_second) == (
        settings.target_min_logprob,
        settings.target_max_words_per_second,
        settings.target_min_words_per_second,
    )
    assert guard.max_unknown_share == settings.target_max_unknown_share
    beam = {f.name: f.default for f in dataclasses.fields(BeamTranslation)}
    assert (beam["beam_size"], beam["repetition_penalty"], beam["no_repeat_ngram_size"]) == (
        settings.retry_beam_size,
        settings.retry_repetition_penalty,
        settings.retry_no_repeat_ngram_size,
    )
