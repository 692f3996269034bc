"""Readings of single written forms: amounts, money, clock times, fractions, roman numerals.

The pieces :mod:`ustad.text.english` puts together once the neighbouring words have said
which reading a form takes. Cardinals and ordinals come from ``num2words`` through
:mod:`ustad.text.numbers`; spoken forms are American (no "and" inside numbers), the
voice being en_US.
"""

from __future__ import annotations

import re
import unicodedata

from ustad.text import english_words as vocab
from ustad.text.numbers import (
    ONES,
    TENS,
    Reading,
    cardinal_words,
    digit_words,
    ordinal_words,
    readings,
    time_words,
    year_words,
)

__all__ = [
    "HALVES",
    "capitalized",
    "cardinal_reading",
    "date_reading",
    "fraction_reading",
    "join_reading",
    "money_reading",
    "roman_reading",
    "roman_value",
    "time_reading",
    "vulgar_fraction",
]

_ROMAN_RE = re.compile(r"^[IVXLC]+$")
_TENS_WORDS = frozenset(TENS) - {""}
_UNIT_WORDS = frozenset(ONES[1:10]) | frozenset(
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
)
_MONTH_ORDER = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
HALVES = frozenset({"am", "pm", "a.m", "p.m"})
"""The two halves of a 12-hour clock as written (full stops at the ends stripped)."""


def cardinal_reading(number: str) -> Reading:
    """A number as written ("1,500", "-3", "2.5", ".5") read as a quantity."""
    text = number.replace(",", "").replace("−", "-")
    if text.startswith("-"):
        return ("minus", *cardinal_reading(text[1:]))
    whole, _, fraction = text.partition(".")
    words = cardinal_words(int(whole)) if whole else ("zero",)
    return (*words, "point", *digit_words(fraction)) if fraction else words


def money_reading(match: re.Match[str], following: str) -> Reading:
    unit, units, sub, subs = vocab.CURRENCY_SIGNS[match["cur"].lower()]
    number = match["num"].replace(",", "")
    whole, _, cents = number.partition(".")
    scale = match["scale"]
    sign: Reading = ("minus",) if match["sign"] else ()
    if scale or following in vocab.SCALE_WORDS:
        said = cardinal_reading(number)
        if scale:
            return (*sign, *said, vocab.SCALE_ABBREVIATIONS[scale.lower()], units)
        return (*sign, *said)  # the scale word that follows says the currency
    n = int(whole or "0")
    if len(cents) == 1:
        cents += "0"  # "$1.5" is a dollar fifty
    if len(cents) == 2:
        c = int(cents)
        if n == 0 and c:
            return (*sign, *cardinal_words(c), sub if c == 1 else subs)
        said = (*cardinal_words(n), unit if n == 1 else units)
        return (*sign, *said, *((*cardinal_words(c), sub if c == 1 else subs) if c else ()))
    return (*sign, *cardinal_reading(number), unit if number == "1" else units)


def time_reading(hours: str, minutes: str, half: str | None, following: str) -> Reading:
    h, m = int(hours), int(minutes)
    hour = cardinal_words(h)
    suffix: Reading = (half[0].lower(), "m") if half else ()
    if m == 0:
        if half or following in HALVES:
            return (*hour, *suffix)
        return (*hour, "o'clock")
    return (*time_words(h, m)[0], *suffix)


def date_reading(first: int, second: int, year: str) -> Reading | None:
    """A numeric date ("21/03/2024", "3/21/2024") read as one, or ``None`` if it is none.

    Day first, as Pakistan and Britain write it ("the twenty-first of March"); month
    first only when the second number cannot be a month and the first can
    ("3/21/2024"). A two-digit year is said as written ("oh five" for 05).
    """
    day, month = (second, first) if second > 12 and first <= 12 else (first, second)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    n = int(year)
    if len(year) == 2:
        said_year: Reading = ("oh", *ONES[n : n + 1]) if n < 10 else cardinal_words(n)
    elif len(year) == 4 and (years := year_words(n)):
        said_year = years[0]
    else:
        return None  # "1/1/0999": no year anyone says
    return ("the", *ordinal_words(day), "of", _MONTH_ORDER[month - 1], *said_year)


def fraction_reading(top: int, bottom: int) -> Reading:
    if (top, bottom) in ((24, 7), (50, 50)):  # "open 24/7", "a 50/50 chance"
        return (*cardinal_words(top), *cardinal_words(bottom))
    if not 2 <= bottom <= 10 and bottom not in (16, 32, 100):
        return (*cardinal_words(top), "slash", *cardinal_words(bottom))
    if bottom in vocab.FRACTION_NAMES:
        one, many = vocab.FRACTION_NAMES[bottom]
    else:
        one = ordinal_words(bottom)[-1]
        many = one + "s"
    head = ordinal_words(bottom)[:-1]
    return (*cardinal_words(top), *head, one if top == 1 else many)


def vulgar_fraction(core: str) -> tuple[Reading, ...]:
    """Ways to say a fraction written as one character, after a whole number or not:
    "½" -> one half (as "1/2" is read), a half; "3½" -> three and a half, three and one
    half, three point five. Empty for anything else."""
    whole, last = core[:-1], core[-1:]
    parts = unicodedata.decomposition(last).split() if last else []
    if parts[:1] != ["<fraction>"] or not (whole == "" or whole.isdigit()):
        return ()
    top, _, bottom = "".join(chr(int(code, 16)) for code in parts[1:]).partition("\u2044")
    if not (top.isdigit() and bottom.isdigit() and int(bottom) > 0):
        return ()
    said = fraction_reading(int(top), int(bottom))
    ways = [said, ("a", *said[1:])] if said[0] == "one" else [said]
    if not whole:
        return tuple(ways)
    ways.reverse()  # "three and a half" is what people say; "one half" as "1/2" is read
    value = int(whole) + int(top) / int(bottom)
    decimal = readings(f"{value:.2f}".rstrip("0")) if value * 100 == int(value * 100) else ()
    return (*[(*cardinal_words(int(whole)), "and", *way) for way in ways], *decimal)


def roman_value(text: str) -> int | None:
    values = [vocab.ROMAN_VALUES[ch] for ch in text.lower()]
    total = sum(
        -v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)
    )
    canonical = ""
    rest = total
    for value, symbol in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX")):
        while rest >= value:
            canonical, rest = canonical + symbol, rest - value
    for value, symbol in ((5, "V"), (4, "IV"), (1, "I")):
        while rest >= value:
            canonical, rest = canonical + symbol, rest - value
    return total if canonical == text and total > 0 else None


def capitalized(reading: Reading) -> Reading:
    """Words of a name ("World War Two", "the Eighth") written with capitals."""
    return tuple(word.capitalize() for word in reading)


def roman_reading(
    core: str, previous: str, previous_written: str, following_written: str = ""
) -> Reading | None:
    """A roman numeral after a capitalised word, or ``None`` when it is not one.

    After a war, chapter, part... a number ("World War II" -> World War Two); after a
    ruler's name "the" and an ordinal ("Henry VIII" -> Henry the Eighth). A lone "I",
    "V" or "X" counts only after a known ruler's name or such a word (the pronoun stays),
    and numerals with L or C only after them too ("Washington DC" is no numeral). A lone
    "C" or "L" is a letter ("Grade C"), and an "I" before a verb that only the pronoun
    takes is the pronoun ("Mary I love you"; "Elizabeth I was queen" stays a numeral).
    """
    if not _ROMAN_RE.match(core) or not previous_written[:1].isupper() or core in ("C", "L"):
        return None
    if core == "I" and following_written.lower().rstrip(".,;:!?") in vocab.PRONOUN_VERBS:
        return None
    if previous_written[-1:] in ".,;:!?)":
        return None
    value = roman_value(core)
    if value is None:
        return None
    if previous in vocab.ROMAN_CARDINAL_CONTEXT:
        return capitalized(cardinal_words(value))
    plain_name = previous_written.isalpha() and len(core) >= 2 and set(core) <= set("IVX")
    if previous in vocab.REGNAL_NAMES or plain_name:
        return ("the", *capitalized(ordinal_words(value)))
    return None


def join_reading(reading: Reading, *, letters_joined: bool = False) -> str:
    """Words of a reading as text, tens and units hyphenated ("forty-five").

    ``letters_joined`` writes runs of letter names as one capitalised word ("a m" ->
    "AM"): the Piper voice reads a lone "a" as the article (tiny.en heard "nine thirty
    a m" as "9.38M", and "AM" as "9.30 am").
    """
    out: list[str] = []
    for word in reading:
        if out and out[-1] in _TENS_WORDS and word in _UNIT_WORDS:
            out[-1] = f"{out[-1]}-{word}"
        elif letters_joined and len(word) == 1 and out and _is_letters(out[-1]):
            out[-1] = (out[-1] + word).upper()
        else:
            out.append(word)
    return " ".join(out)


def _is_letters(word: str) -> bool:
    return word.isalpha() and (len(word) == 1 or word.isupper())
