"""Tokenising targets and transcripts into comparable words."""

from __future__ import annotations

import pytest

from ustad.assess.normalize import (
    normalize_heard,
    normalize_target,
    normalize_text,
    normalize_word,
    split_words,
)


def _tokens(text: str) -> list[str]:
    return [t.text for t in normalize_target(text).tokens]


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("Don't", ["do", "not"]),
        ("DON'T", ["do", "not"]),
        ("don’t", ["do", "not"]),  # typographic apostrophe
        ("can't", ["can", "not"]),
        ("cannot", ["can", "not"]),
        ("won't", ["will", "not"]),
        ("isn't", ["is", "not"]),
        ("doesn't", ["does", "not"]),
        ("let's", ["let", "us"]),
        ("I'm", ["i", "am"]),
        ("it's", ["it", "is"]),
        ("WHO'S", ["who", "is"]),
        ("that's", ["that", "is"]),
        ("they're", ["they", "are"]),
        ("we've", ["we", "have"]),
        ("I'll", ["i", "will"]),
        ("she'd", ["she", "would"]),
        ("gonna", ["going", "to"]),
    ],
)
def test_contractions_expand(written: str, tokens: list[str]) -> None:
    assert normalize_word(written) == tokens


def test_both_sides_meet_in_the_middle() -> None:
    assert normalize_word("can't") == normalize_text("can not") == normalize_word("cannot")


def test_possessives_keep_one_word_without_apostrophe() -> None:
    assert normalize_word("MANDY'S") == ["mandys"]
    assert normalize_word("students'") == ["students"]


def test_case_punctuation_and_hyphens() -> None:
    assert _tokens("Well-known, (really) GOOD!") == ["well", "known", "really", "good"]
    assert _tokens("U.S. policy") == ["us", "policy"]


def test_british_spellings_map_to_american() -> None:
    assert normalize_text("colour favourite realised centre travelled grey") == [
        "color",
        "favorite",
        "realized",
        "center",
        "traveled",
        "gray",
    ]


def test_abbreviations_and_accents() -> None:
    assert normalize_text("Mr. Smith, ok? café") == ["mister", "smith", "okay", "cafe"]


def test_digits_in_a_target_read_the_usual_way() -> None:
    assert _tokens("Walk 2648 steps by 10:30") == (
        [
            "walk",
            "two",
            "thousand",
            "six",
            "hundred",
            "forty",
            "eight",
            "steps",
            "by",
            "ten",
            "thirty",
        ]
    )
    assert _tokens("It ended in 1945") == ["it", "ended", "in", "nineteen", "forty", "five"]


def test_split_words_keeps_words_as_written() -> None:
    assert split_words("Please, don't go!  — now.") == ("Please", "don't", "go", "now")


def test_tokens_map_back_to_written_words() -> None:
    target = normalize_target("Don't GO there")
    assert target.words == ("Don't", "GO", "there")
    assert [(t.text, t.source) for t in target.tokens] == [
        ("do", 0),
        ("not", 0),
        ("go", 1),
        ("there", 2),
    ]


def test_heard_digits_keep_their_readings() -> None:
    tokens = normalize_heard([" 2,648.", " Don't"])
    number = tokens[0]
    assert number.text == "2,648"
    assert number.is_number
    assert ("two", "six", "four", "eight") in number.readings
    assert [(t.text, t.source) for t in tokens[1:]] == [("do", 1), ("not", 1)]


def test_oclock_reading_is_normalised_like_a_word() -> None:
    (token,) = normalize_heard([" 10:00"])
    assert ("ten", "oclock") in token.readings


@pytest.mark.parametrize("filler", ["um", "Uh,", "hmm...", "Erm", "mm"])
def test_fillers_are_detected(filler: str) -> None:
    (token,) = normalize_heard([filler])
    assert token.is_filler


def test_ordinary_words_are_not_fillers() -> None:
    assert not any(t.is_filler for t in normalize_heard(["I", " am", " here"]))


def test_empty_and_punctuation_only() -> None:
    assert normalize_target("").tokens == ()
    assert normalize_target(" - ... ").words == ()
    assert normalize_heard([" ...", ""]) == ()


def test_hyphen_and_spacing_variants_are_one_word() -> None:
    assert normalize_text("WiFi") == normalize_text("Wi-Fi") == normalize_text("wifi")
    assert normalize_text("e-mail") == normalize_text("email") == ["email"]


def test_written_forms_read_in_context() -> None:
    assert normalize_text("No. 2 on Baker St. on Mon.") == (
        ["number", "two", "on", "baker", "street", "on", "monday"]
    )
    assert normalize_text("50% at 9:30 a.m.") == (
        ["fifty", "percent", "at", "nine", "thirty", "a", "m"]
    )
    digits = ["zero", "three", "zero", "zero", "one", "two", "three", "four", "five", "six"]
    assert _tokens("Call 0300 1234567") == ["call", *digits, "seven"]


def test_heard_numbers_cut_in_two_are_one_number() -> None:
    tokens = normalize_heard(["at", "9", ".30", "a.m."])
    assert [t.source for t in tokens] == [0, 1, 3, 3]
    assert tokens[1].readings[0] == ("nine", "thirty")
