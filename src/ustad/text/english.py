"""The spoken form of English text, shared by the English voice and by assessment.

Written forms that are said differently are read as words, deciding by the neighbouring
words where one form has several readings:

- numbers: cardinals, decimals ("2.5" -> two point five), negatives, thousands
  separators, years after "in", "since", a month, or "was" at a sentence's end ("1945"
  -> nineteen forty-five, "2008" -> two thousand eight, "1900s"), ordinals ("22nd"),
  percentages, fractions ("1/2" -> one half, "3½" -> three and a half, "scored 9/10" ->
  nine out of ten), ranges ("10-20" -> ten to twenty), numbers inside hyphenated words
  ("COVID-19", "10-minute"), heights ("5'4\"" -> five feet four inches), times ("9:30
  a.m." -> nine thirty a m, "10:05" -> ten oh five, "12:00" -> twelve o'clock), dates
  ("21/03/2024", "2024-03-21" -> the twenty-first of March twenty twenty-four), and
  digit groups with a leading zero or a "+" (phone numbers) and their neighbouring
  groups, digit by digit;
- money: $, £, €, ₨, Rs., PKR ... before or after the amount ("$1.50" -> one dollar
  fifty cents, "$5 million" -> five million dollars);
- units after a number ("2.5 kg" -> two point five kilograms, "25°C");
- abbreviations by context: "Dr." before a name is Doctor and after a street name
  Drive, "St." Saint before a name and Street after one; "No. 2" -> number two; Mon.,
  Jan., a.m., e.g., etc. (see :mod:`ustad.text.english_words`);
- roman numerals in names of wars and rulers ("World War II" -> World War Two,
  "Henry VIII" -> Henry the Eighth); the pronoun "I" stays.

Cardinals and ordinals come from ``num2words`` (through :mod:`ustad.text.numbers`).
Every other word is left as written: contractions, spelling variants and the like are
a matter of comparison (:mod:`ustad.assess.normalize`), not of speech.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ustad.text import english_words as vocab
from ustad.text.english_context import (
    DIGITS_RE,
    FRACTION_RE,
    NUM,
    NUMBER_RE,
    RANGE_RE,
    TIME_RE,
    Context,
    contexts,
)
from ustad.text.english_forms import (
    HALVES,
    cardinal_reading,
    date_reading,
    fraction_reading,
    join_reading,
    money_reading,
    roman_reading,
    time_reading,
    vulgar_fraction,
)
from ustad.text.markup import strip_markup
from ustad.text.numbers import (
    Reading,
    cardinal_words,
    digit_words,
    has_digit,
    ordinal_words,
    readings,
    year_words,
)

__all__ = ["SpokenWord", "read_words", "spoken_english", "spoken_words", "voice_english"]

CODE_DIGITS = 7
"""A run of this many digits or more, written without separators and not ending in
"000", is a code or phone number, read digit by digit ("1234567"): Pakistani mobile
numbers are 0300 + 7 digits, landlines 6-8 digits, and amounts that large are written
with thousands separators ("1,234,567") or end in zeros ("1000000")."""
YEARS = range(1100, 2100)
"""Four-digit numbers read as years where the words around them say so ("in 1945")."""

_LEAD = "\"'([{“‘«"
_TRAIL = ".,;:!?\"')]}”’»…"
_MONEY_RE = re.compile(
    rf"^(?P<sign>-?)(?P<cur>US\$|[$£€₨₹¥]|Rs\.?|PKR|USD|INR|EUR|GBP)\s?"
    rf"(?P<num>{NUM})(?P<scale>k|K|m|M|bn|Bn)?$"
)
_HOUR_HALF_RE = re.compile(r"^(\d{1,2})(?P<half>[ap]\.?m\.?)$", re.IGNORECASE)
_UNIT_GLUED_RE = re.compile(rf"^(?P<num>-?(?:{NUM}))(?P<unit>[^\d\s,.%][^\d\s]*)$")
_NUMBER_SIGN_RE = re.compile(r"^(?:#|No\.)(\d+)$", re.IGNORECASE)
_SUFFIXED_RE = re.compile(r"^'?\d[\d,.]*(?:%|st|nd|rd|th|'?s)$", re.IGNORECASE)
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FEET_RE = re.compile(r"^(\d{1,2})['’](\d{1,2})[\"”]$")
_DATE_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_PHONE_RE = re.compile(r"^\+?\d+(?:[-.]\d+)*$")


@dataclass(frozen=True)
class SpokenWord:
    """One whitespace-separated written word and how it is said.

    ``readings`` is empty for a word said as written ("cat", "don't"); otherwise its
    ways of being said, most usual first, each a tuple of words (lower case but for
    day and month names). A word said as nothing (the "Rs." of "Rs. 500", whose
    "rupees" is said after the amount) has the one empty reading ``()``.
    """

    written: str
    lead: str
    core: str
    trail: str
    readings: tuple[Reading, ...] = ()
    abbreviation: bool = False
    """The core's full stop (the first character of ``trail``) belongs to it."""


def _split_edges(word: str) -> tuple[str, str, str]:
    core = word.lstrip(_LEAD)
    lead = word[: len(word) - len(core)]
    stripped = core.rstrip(_TRAIL)
    trail = core[len(stripped) :]
    if trail[:1] in '"”' and _FEET_RE.match(stripped + trail[:1]):
        stripped, trail = stripped + trail[0], trail[1:]  # 5'4": the inch mark is the word's
    if stripped.endswith(("/-", "/=")) and stripped[:-2][-1:].isdigit():
        stripped = stripped[:-2]  # "Rs. 500/-": the Pakistani mark of a whole amount, unsaid
    return lead, stripped, trail


def _is_year_context(previous: str, following: str) -> bool:
    return (
        previous in vocab.YEAR_CONTEXT
        or (previous in vocab.YEAR_COPULAS and not following)
        or (not previous and following in vocab.YEAR_COPULAS)
        or previous in vocab.MONTH_NAMES
        or previous in vocab.MONTHS
        or following in vocab.YEAR_SUFFIXES
    )


def _is_month(ctx: Context) -> bool:
    """Whether a neighbour of a day number names a month ("Jan. 5", "5 March")."""
    months = vocab.MONTH_NAMES | vocab.MONTHS.keys()
    before = ctx.previous_written[:1].isupper() and ctx.previous.rstrip(".") in months
    after = ctx.following_written[:1].isupper() and ctx.following.rstrip(".") in months
    return before or after


def _plain(core: str, ctx: Context) -> tuple[Reading, ...]:
    """A number without a sign of its kind: digit by digit, a year, a day or a quantity."""
    previous, following, phone = ctx.previous, ctx.following, ctx.phone
    digits = core.replace(",", "")
    if DIGITS_RE.match(core) and (phone or (len(core) > 1 and core[0] == "0")):
        return (digit_words(core), *readings(core))
    if DIGITS_RE.match(core) and len(core) >= CODE_DIGITS and not core.endswith("000"):
        return (digit_words(core), *readings(core))
    day_before = bool(re.match(r"^\d{1,2}(?:st|nd|rd|th)?$", previous)) and ctx.after_day
    if (
        DIGITS_RE.match(core)
        and len(core) == 4
        and (_is_year_context(previous, following) or day_before)
    ):
        n = int(core)
        if n in YEARS:
            return (*year_words(n), *readings(core))
    if DIGITS_RE.match(core) and 1 <= int(core) <= 31 and _is_month(ctx):
        return (ordinal_words(int(core)), *readings(core))  # "Jan. 5" -> January fifth
    first = cardinal_reading(core)
    return (first, *readings(digits.lstrip("-−")))


def _unit(core: str) -> tuple[str, str] | None:
    return vocab.UNITS.get(core) or vocab.UNITS.get(core.lower())


def _quantity_after_unit(core: str, following_core: str) -> tuple[str, ...] | None:
    """ "kg" of "2.5 kg": the unit's name, or a currency after its amount."""
    lower = core.lower()
    if lower in vocab.CURRENCY_SIGNS and lower not in ("$", "£", "€"):
        return (vocab.CURRENCY_SIGNS[lower][1],)
    unit = _unit(core)
    if unit is None:
        return None
    return tuple(unit[1].split())


def _abbreviation(core: str, dotted: bool, ctx: Context) -> Reading | None:
    lower = core.lower()
    previous_capital = ctx.previous_written[:1].isupper() and not ctx.previous_ends_clause
    next_capital = ctx.following_written[:1].isupper()
    if lower in ("dr", "st") and (dotted or core in ("Dr", "St")):
        street = previous_capital and ctx.index > 0 and ctx.previous_written.isalpha()
        if lower == "dr":
            return ("drive",) if street and not next_capital else ("doctor",)
        return ("street",) if street or not next_capital else ("saint",)
    if lower == "no" and dotted and NUMBER_RE.match(ctx.following):
        return ("number",)
    if lower in HALVES and (ctx.after_time or (dotted and "." in lower)):
        return (lower[0], "m")
    if dotted and core[:1].isupper() and lower in vocab.DAYS:
        return (vocab.DAYS[lower],)
    if lower in vocab.MONTHS and core[:1].isupper() and (dotted or ctx.next_to_number):
        return (vocab.MONTHS[lower],)
    if lower in vocab.DOTTED and (dotted or "." in lower or lower in vocab.UNDOTTED):
        return tuple(vocab.DOTTED[lower].split())
    if lower in vocab.YEAR_SUFFIXES and ctx.after_number and core.isupper():
        return tuple(vocab.YEAR_SUFFIXES[lower].split())
    if core == "&":
        return ("and",)
    first, dash, last = core.partition("-")
    names = vocab.DAYS | vocab.MONTHS
    if dash and first.lower() in names and last.lower() in names and first[:1].isupper():
        return (names[first.lower()], "to", names[last.lower()])  # "Mon-Fri", "Jan-Mar"
    return None


def _number_word(core: str, ctx: Context) -> tuple[Reading, ...] | None:
    if m := _MONEY_RE.match(core):
        return (money_reading(m, ctx.following), *readings(core))
    m = TIME_RE.match(core)
    at_clock = ctx.previous in vocab.CLOCK_WORDS  # "at 9.30": Pakistani and British usage
    if (
        m
        and int(m[1]) <= 24
        and int(m[2]) < 60
        and (":" in core or m["half"] or ctx.before_half or at_clock)
    ):
        return (time_reading(m[1], m[2], m["half"], ctx.following), *readings(core))
    if m := _HOUR_HALF_RE.match(core):
        return ((*cardinal_words(int(m[1])), m["half"][0].lower(), "m"),)
    if (m := _DATE_RE.match(core)) and (date := date_reading(int(m[1]), int(m[2]), m[3])):
        return (date,)
    if (m := _ISO_DATE_RE.match(core)) and (date := date_reading(int(m[3]), int(m[2]), m[1])):
        return (date,)  # "2025-01-31", as forms and computers write dates
    if m := _FEET_RE.match(core):  # 5'4" -> five feet four inches
        feet, inches = int(m[1]), int(m[2])
        return (
            (
                *cardinal_words(feet),
                "foot" if feet == 1 else "feet",
                *cardinal_words(inches),
                "inch" if inches == 1 else "inches",
            ),
        )
    if fractions := vulgar_fraction(core):  # "½", "3½"
        return fractions
    if m := _NUMBER_SIGN_RE.match(core):  # "#1", "No.1"
        return (("number", *cardinal_words(int(m[1]))),)
    if _PHONE_RE.match(core) and (
        core.startswith("+") or core.count("-") >= 2 or _zero_group(core)
    ):
        said = [word for group in re.findall(r"\d+", core) for word in digit_words(group)]
        return ((*(("plus",) if core.startswith("+") else ()), *said),)
    if NUMBER_RE.match(core):
        found = _plain(core, ctx)
        if m := FRACTION_RE.match(ctx.following):
            found = (found[0] + ("and",), *found[1:]) if int(m[1]) < int(m[2]) else found
        return found
    if m := RANGE_RE.match(core):
        years = all(p.isdigit() and len(p) == 4 and int(p) in YEARS for p in (m["a"], m["b"]))
        if years:  # "1990-1995" -> nineteen ninety to nineteen ninety-five
            return ((*year_words(int(m["a"]))[0], "to", *year_words(int(m["b"]))[0]),)
        if m["a"].isdigit() and int(m["a"]) in YEARS and len(m["b"]) == 2 and m["b"].isdigit():
            return ((*year_words(int(m["a"]))[0], "to", *cardinal_words(int(m["b"]))),)
        first = _number_word(m["a"], ctx)
        second = _number_word(m["b"], ctx)
        if first and second:
            return ((*first[0], "to", *second[0]),)
    if m := FRACTION_RE.match(core):
        if ctx.previous in vocab.SCORE_WORDS and int(m[1]) <= int(m[2]):
            return ((*cardinal_words(int(m[1])), "out", "of", *cardinal_words(int(m[2]))),)
        return (fraction_reading(int(m[1]), int(m[2])), *readings(core))
    if m := _UNIT_GLUED_RE.match(core):
        # Exact case first; "5G" or "4K" (capital letters) are names, not grams or kelvin.
        unit = vocab.UNITS.get(m["unit"]) or (
            None if m["unit"].isupper() and len(m["unit"]) == 1 else _unit(m["unit"])
        )
        amount = _number_word(m["num"], ctx)
        if unit is not None and amount:
            name = unit[0] if m["num"] in ("1", "-1") else unit[1]
            return ((*amount[0], *name.split()),)
    if _SUFFIXED_RE.match(core):  # "50%", "1st", "22nd", "1990s", "'80s"
        return readings(core) or None
    if core[:1] in "-−" and _SUFFIXED_RE.match(core[1:]) and readings(core[1:]):
        return (("minus", *readings(core[1:])[0]),)  # "-10%"
    pieces = core.split("-")
    if len(pieces) > 1 and all(pieces) and has_digit(core):
        # "COVID-19", "mid-1990s", "a 10-minute walk": each piece read on its own;
        # "2-3pm" is a range.
        link = ("to",) if len(pieces) == 2 and all(p[0].isdigit() for p in pieces) else ()
        parts: list[Reading] = []
        for piece in pieces:
            read = _number_word(piece, ctx) if has_digit(piece) else ((piece,),)
            if not read:
                return None
            parts.append(read[0])
        return (tuple(w for n, part in enumerate(parts) for w in (link if n else ()) + part),)
    # Other digits mixed with letters ("B12", "5G", "w000") are left as written: the
    # voices say them well, and assessment reads them piece by piece.
    return None


def _zero_group(core: str) -> bool:
    groups = re.findall(r"\d+", core)
    return len(groups) >= 2 and len(groups[0]) >= 3 and groups[0].startswith("0")


def read_words(words: Sequence[str]) -> tuple[SpokenWord, ...]:
    """How each written word (whitespace-free pieces of one text, in order) is said."""
    parts = [_split_edges(word) for word in words]
    cores = [core for _, core, _ in parts]
    trails = [trail for _, _, trail in parts]
    found: list[SpokenWord] = []
    for word, (lead, core, trail), ctx in zip(words, parts, contexts(cores, trails), strict=True):
        dotted = trail.startswith(".")
        spoken: tuple[Reading, ...] | None = None
        abbreviation = False
        if core:
            said = _abbreviation(core, dotted, ctx)
            if said is not None:
                spoken, abbreviation = (said,), dotted
            elif ctx.after_number and (unit := _quantity_after_unit(core, ctx.following)):
                single = tuple((_unit(core) or ("", ""))[0].split())
                if ctx.previous in ("1", "-1") and core.lower() not in vocab.CURRENCY_SIGNS:
                    unit = single
                elif (part := FRACTION_RE.match(ctx.previous)) and int(part[1]) < int(part[2]):
                    unit = ("of", "a", *single)  # "1/4 kg" -> one quarter of a kilogram
                spoken, abbreviation = (unit,), dotted and core.lower() not in ("m", "l", "g")
            elif core.lower() in vocab.CURRENCY_SIGNS and NUMBER_RE.match(ctx.following):
                spoken, abbreviation = ((),), dotted
            elif (
                ctx.previous.startswith(tuple(vocab.CURRENCY_SIGNS))
                and core.lower() in vocab.SCALE_WORDS
            ):
                currency = _MONEY_RE.match(ctx.previous_written)
                if currency and not currency["scale"]:
                    name = vocab.CURRENCY_SIGNS[currency["cur"].lower()][1]
                    spoken = ((core.lower(), name),)
            elif (
                core.lower() in vocab.SCALE_WORDS
                and ctx.after_number
                and (sign := _currency_word(ctx.two_back)) is not None
            ):  # "Rs. 5 lakh" -> five lakh rupees
                spoken = ((core.lower(), sign[1]),)
            elif roman := roman_reading(
                core,
                ctx.previous,
                ctx.previous_written,
                "" if ctx.two_back in vocab.RULER_TITLES else ctx.following_written,
            ):  # "King Charles I was ..." is a ruler, "Mary I love ..." a pronoun
                spoken = (roman,)
            else:
                spoken = _number_word(core, ctx)
        if spoken and NUMBER_RE.match(core) and (after := _currency_before(core, ctx)):
            spoken = ((*spoken[0], after), *spoken[1:])
        found.append(SpokenWord(word, lead, core, trail, spoken or (), abbreviation))
    return tuple(found)


def _currency_word(word: str) -> tuple[str, str, str, str] | None:
    """The names of a currency written as a word of its own ("Rs.", "PKR", "$")."""
    return vocab.CURRENCY_SIGNS.get(word) or vocab.CURRENCY_SIGNS.get(word + ".")


def _currency_before(core: str, ctx: Context) -> str | None:
    """ "rupees" for the amount of "Rs. 500" (the currency word itself says nothing)."""
    sign = _currency_word(ctx.previous)
    if sign is None or ctx.following in vocab.SCALE_WORDS:
        return None
    return sign[0] if core == "1" else sign[1]


def spoken_words(text: str) -> tuple[SpokenWord, ...]:
    """:func:`read_words` of a text split on whitespace."""
    return read_words(text.split())


def _dot_is_not_an_end(word: SpokenWord, following: SpokenWord) -> bool:
    """Whether an abbreviation's full stop is only its own (not also the sentence's).

    Before a capitalised word it ends the sentence ("at 10 a.m. The ...") unless the
    abbreviation is a title said before a name ("Dr. Smith", "St. Paul", "No. 2").
    """
    if not following.core[:1].isupper():
        return True
    return bool(word.readings[0]) and word.readings[0][0] in _TITLES


_TITLES = frozenset(
    {"doctor", "saint", "mister", "missus", "miz", "professor", "junior", "senior", "number"}
    | {"mount", "captain", "colonel", "lieutenant", "sergeant", "reverend", "honorable"}
    | {"general", "governor", "president", "versus", "figure", "chapter", "volume", "page"}
)


def spoken_english(text: str) -> str:
    """``text`` as it is said (markup stripped, written forms read out as words).

    "It costs $500." -> "It costs five hundred dollars."; "9:30 a.m." -> "nine thirty
    a m". The full stop of an abbreviation is dropped unless it also ends a sentence.
    Returns "" when nothing is left to say (only emoji or tags).
    """
    return _spoken(text, letters_joined=False)


def voice_english(text: str) -> str:
    """:func:`spoken_english` as the English voices take it: letter names written as
    one capitalised word ("a m" -> "AM"), which Piper and espeak-ng spell out."""
    return _spoken(text, letters_joined=True)


def _spoken(text: str, *, letters_joined: bool) -> str:
    words = spoken_words(strip_markup(text))
    out: list[str] = []
    for i, word in enumerate(words):
        if not word.readings:
            out.append(word.written)
            continue
        trail = word.trail
        if word.abbreviation and i + 1 < len(words) and _dot_is_not_an_end(word, words[i + 1]):
            trail = trail[1:]
        said = join_reading(word.readings[0], letters_joined=letters_joined)
        if said and word.core[:1].isupper() and not word.core.isupper():
            said = said[0].upper() + said[1:]  # "Dr." -> "Doctor", "St." -> "Street"
        if said:
            out.append(f"{word.lead}{said}{trail}")
        elif trail.strip(".") and out:
            out[-1] += trail
    return " ".join(out)
