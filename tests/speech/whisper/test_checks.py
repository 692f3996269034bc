"""The decoding checks on word lists and scripted segments (no model needed)."""

from __future__ import annotations

import pytest

from tests.speech.whisper.helpers import segment
from ustad.speech.types import Transcript
from ustad.speech.whisper.checks import (
    MAX_NEW_TOKENS,
    is_repetition,
    no_speech_probability,
    plain_words,
    repeats_itself,
    short_window_doubt,
    token_budget,
    weighted_avg_logprob,
)
from ustad.speech.whisper.transcript import Decoded


def test_plain_words_in_any_script() -> None:
    assert plain_words("So Mary went on to study.") == ["so", "mary", "went", "on", "to", "study"]
    assert plain_words("1, 5, 3,1") == ["1", "5", "3", "1"]
    assert plain_words("Don't go!") == ["don't", "go"]
    assert plain_words("مجھے پانی چاہیے۔ کیا، آپ؟") == ["مجھے", "پانی", "چاہیے", "کیا", "آپ"]
    assert plain_words(" \n ") == []


def test_the_token_budget_grows_with_the_clip_up_to_whispers_limit() -> None:
    assert token_budget(3.0) == 88
    assert token_budget(0.0) == 16
    assert token_budget(30.0) == MAX_NEW_TOKENS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so mary went on to study", False),
        ("bye bye", False),  # a word said twice is speech
        ("fine fine could it be", False),
        ("very very very", True),
        ("to go to go to go", True),
        ("so mary went so mary went", True),
        ("one five three one five three one", True),
        ("", False),
    ],
)
def test_repeats_itself(text: str, expected: bool) -> None:
    assert repeats_itself(text.split()) is expected


def test_a_high_compression_ratio_is_a_repetition() -> None:
    loop = segment(0.0, 2.0, "la " * 20, avg_logprob=-0.1, no_speech_prob=0.5, compression_ratio=9)
    assert is_repetition(loop)
    assert not is_repetition(segment(0.0, 2.0, "la la", avg_logprob=-0.1, no_speech_prob=0.5))


def test_log_prob_and_no_speech_figures() -> None:
    segments = [
        segment(0.0, 3.0, "one two", avg_logprob=-0.2, no_speech_prob=0.1),
        segment(3.0, 4.0, "three", avg_logprob=-0.6, no_speech_prob=0.3),
    ]
    assert weighted_avg_logprob(segments) == pytest.approx((3 * -0.2 + 1 * -0.6) / 4)
    assert no_speech_probability(segments) == 0.3
    # No segments: Whisper skipped the window as silence.
    assert (weighted_avg_logprob([]), no_speech_probability([])) == (0.0, 1.0)


def decoded(*segments: object, text: str, tokens: int = 10) -> Decoded:
    transcript = Transcript(text=text, language="en", language_probability=1.0, duration=3.0)
    return Decoded(transcript, tuple(segments), tokens)


def test_a_plain_short_decode_is_not_doubted() -> None:
    fine = segment(0.0, 2.6, "So Mary went on to study.", avg_logprob=-0.4, no_speech_prob=0.1)
    assert short_window_doubt(decoded(fine, text="So Mary went on to study."), 3.0) is None
    assert short_window_doubt(decoded(text=""), 3.0) == "no text"
    over = decoded(fine, text="So Mary went on to study.", tokens=token_budget(3.0))
    assert short_window_doubt(over, 3.0) == "token budget"
