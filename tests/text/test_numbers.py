"""Number words and digit readings."""

from __future__ import annotations

import pytest

from ustad.text.numbers import (
    cardinal_words,
    digit_words,
    has_digit,
    ordinal_words,
    readings,
    time_words,
    words_to_number,
    year_words,
)


def _said(token: str) -> list[str]:
    return [" ".join(reading) for reading in readings(token)]


def test_digit_by_digit() -> None:
    assert digit_words("2648") == ("two", "six", "four", "eight")
    assert digit_words("0") == ("zero",)


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (115, "one hundred fifteen"),
        (2648, "two thousand six hundred forty eight"),
        (1_000_001, "one million one"),
        (20_000_000_300, "twenty billion three hundred"),
    ],
)
def test_cardinals(number: int, words: str) -> None:
    assert " ".join(cardinal_words(number)) == words


def test_british_and() -> None:
    assert " ".join(cardinal_words(2648, with_and=True)) == (
        "two thousand six hundred and forty eight"
    )
    assert " ".join(cardinal_words(1005, with_and=True)) == "one thousand and five"


def test_negative_and_too_large() -> None:
    assert cardinal_words(-3) == ("minus", "three")
    # Past a quadrillion nobody says the quantity: the digits are read.
    assert cardinal_words(10**16) == ("one", *("zero",) * 16)
    assert ordinal_words(10**16 + 2) == ("one", *("zero",) * 15, "second")


@pytest.mark.parametrize(
    ("number", "words"),
    [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (8, "eighth"), (9, "ninth"),
     (12, "twelfth"), (20, "twentieth"), (21, "twenty first"), (100, "one hundredth")],
)  # fmt: skip
def test_ordinals(number: int, words: str) -> None:
    assert " ".join(ordinal_words(number)) == words


def test_years() -> None:
    assert [" ".join(r) for r in year_words(1990)] == ["nineteen ninety"]
    assert [" ".join(r) for r in year_words(1905)] == ["nineteen oh five"]
    assert [" ".join(r) for r in year_words(1900)] == ["nineteen hundred"]
    assert [" ".join(r) for r in year_words(2005)] == ["two thousand five", "twenty oh five"]
    assert year_words(999) == ()


def test_times() -> None:
    assert [" ".join(r) for r in time_words(10, 30)] == ["ten thirty"]
    assert [" ".join(r) for r in time_words(7, 5)] == ["seven oh five"]
    assert "ten o'clock" in [" ".join(r) for r in time_words(10, 0)]


def test_readings_of_a_digit_string_include_every_style() -> None:
    said = _said("2648")
    assert "two six four eight" in said
    assert "two thousand six hundred forty eight" in said
    assert "twenty six forty eight" in said
    assert _said("2,648") == said


def test_year_reading_comes_first_for_four_digits() -> None:
    assert _said("1990")[0] == "nineteen ninety"


def test_leading_zero_is_read_digit_by_digit_only() -> None:
    assert _said("0583") == ["zero five eight three", "oh five eight three"]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("3rd", "third"),
        ("21st", "twenty first"),
        ("$5", "five dollars"),
        ("$1", "one dollar"),
        ("$5.50", "five dollars fifty cents"),
        ("£20", "twenty pounds"),
        ("10:30", "ten thirty"),
        ("50%", "fifty percent"),
        ("50%", "fifty per cent"),
        ("3.5", "three point five"),
        ("1990s", "nineteen nineties"),
        ("b12", "b twelve"),
    ],
)
def test_readings_of_special_forms(token: str, expected: str) -> None:
    assert expected in _said(token)


def test_token_without_digits_is_itself() -> None:
    assert readings("Water") == (("water",),)
    assert not has_digit("water")
    assert has_digit("3rd")


@pytest.mark.parametrize(
    "number", [0, 5, 19, 20, 21, 99, 100, 101, 999, 1000, 2648, 90_017, 1_234_567]
)
def test_words_to_number_reverses_cardinals(number: int) -> None:
    assert words_to_number(cardinal_words(number)) == number
    assert words_to_number(cardinal_words(number, with_and=True)) == number


@pytest.mark.parametrize(
    "words",
    ["two six four eight", "thousand", "hundred five", "twenty thirty", "five twelve", "water",
     "two thousand three thousand", ""],
)  # fmt: skip
def test_words_to_number_rejects_non_cardinals(words: str) -> None:
    assert words_to_number(words.split()) is None
