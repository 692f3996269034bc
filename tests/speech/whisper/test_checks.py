"""The decoding checks on word lists and scripted segments (no model needed)."""

from __future__ import annotations

import pytest

from tests.speech.whisper.helpers import segment
from ustad.speech.types import Transcript
from ustad.speech.whisper.checks import (
    MAX_NEW_TOKENS,
    has_repetition_loop,
    is_repetition,
    kept_segments,
    missed_loop,
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


@pytest.mark.parametrize(
    "text",
    [
        # What base decoded of 2 s of silence at the Urdu step on an AVX-512 machine;
        # gzip rates it 2.16, under Whisper's 2.4.
        "پیش اگر ایسا ایسا ایسا ایسا ایسا ایسا",
        "ایسا ایسا ایسا ایسا ایسا ایسا ایسا ایسا ای",  # cut off by the token budget
        "ایک ایک ایک ایک",
        "اوی بیدی اوی بیدی اوی بیدی اوی",
        "so mary went on to to to to",  # a loop at the tail, after real words
        "i want to go to go to go to the",
        "one five three one five three one five three",
        "we are here we are here we are here now",
        "a b c d a b c d a b c d",  # four words
        "hello hello hello hel",  # three times and cut short
        "اڈڑڈڈڑڈڈڈڈڈڈڈڈڈڈڈ",  # a loop of letters inside one word
        "hahahahahaha",
        # 2 s of silence on an AVX2 machine: the vowel marks change from turn to turn.
        "اَبْسَ اَبْسُ اَبْسَ اَبْسُ اَبْسُ اَبْ",
    ],
)
def test_repetition_loops_are_caught_in_any_script(text: str) -> None:
    assert has_repetition_loop(plain_words(text))


@pytest.mark.parametrize(
    "text",
    [
        "very very good",
        "no, no, that is wrong",
        "no no no",  # three times is still speech for one word
        "bye bye",
        "so Mary went on to study. So Mary went on to study.",  # a sentence said twice
        "go to go to the shop",
        "that that is the question",
        "مجھے پانی چاہیے",
        "بہت بہت شکریہ",
        "café cafe",
        "1000 people",
        "Nooo",
        "",
    ],
)
def test_ordinary_speech_is_not_a_loop(text: str) -> None:
    assert not has_repetition_loop(plain_words(text))


def test_a_loop_gzip_misses_is_a_repetition_and_leaves_the_text() -> None:
    text = "پیش اگر ایسا ایسا ایسا ایسا ایسا ایسا"
    loop = segment(0.0, 2.0, text, avg_logprob=-0.3, no_speech_prob=0.4)
    fine = segment(0.0, 2.0, "مجھے پانی چاہیے", avg_logprob=-0.3, no_speech_prob=0.1)
    assert is_repetition(loop)
    assert missed_loop([loop])
    assert kept_segments([fine, loop]) == [fine]
    assert not missed_loop([fine])


def test_a_loop_spread_over_segments_leaves_nothing() -> None:
    parts = [
        segment(float(i), float(i + 1), "ایک ایک", avg_logprob=-0.3, no_speech_prob=0.4)
        for i in range(3)
    ]
    assert not any(is_repetition(s) for s in parts)
    assert missed_loop(parts)
    assert kept_segments(parts) == []


def test_a_loop_gzip_sees_is_not_missed() -> None:
    text = "ایک " * 17
    loop = segment(0.0, 2.0, text, avg_logprob=-0.3, no_speech_prob=0.4, compression_ratio=6.2)
    assert is_repetition(loop)
    assert not missed_loop([loop])  # faster-whisper already retried it
    assert kept_segments([loop]) == []


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


def test_a_low_log_prob_is_a_doubt_only_when_asked() -> None:
    unsure = segment(0.0, 2.6, "Some marry one.", avg_logprob=-1.3, no_speech_prob=0.1)
    assert short_window_doubt(decoded(unsure, text="Some marry one."), 3.0) == "low log-prob"
    kept = short_window_doubt(decoded(unsure, text="Some marry one."), 3.0, low_logprob=False)
    assert kept is None
    # The other checks still hold without it.
    assert short_window_doubt(decoded(text=""), 3.0, low_logprob=False) == "no text"
