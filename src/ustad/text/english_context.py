"""Where a word of English text stands: its neighbours and what kind they are.

:func:`ustad.text.english.read_words` decides how a written form is said from the
words around it ("in 1945" is a year, "call 1122" digits, "at 9.30" a time); this
module works those neighbours out once per text, with the number patterns both share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ustad.text import english_words as vocab
from ustad.text.english_forms import HALVES

__all__ = [
    "DIGITS_RE",
    "FRACTION_RE",
    "NUM",
    "NUMBER_RE",
    "RANGE_RE",
    "TIME_RE",
    "Context",
    "contexts",
]

# Thousands grouped by threes ("1,500,000"), or the South Asian way by lakhs and
# crores ("15,00,000", as Pakistani prices are written); read as the same quantity.
NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
NUMBER_RE = re.compile(rf"^[-−]?(?:{NUM})$")
TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?(?P<half>[ap]\.?m\.?)?$", re.IGNORECASE)
RANGE_RE = re.compile(rf"^(?P<a>[$£€]?(?:{NUM}))[-–—](?P<b>[$£€]?(?:{NUM})%?)$")
FRACTION_RE = re.compile(r"^(\d+)/(\d+)$")
DIGITS_RE = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Context:
    """One word's neighbours (lower-cased cores unless ``_written``) and their kinds."""

    index: int
    previous: str
    previous_written: str
    previous_ends_clause: bool
    following: str
    following_written: str
    after_number: bool
    after_time: bool
    before_half: bool
    after_day: bool
    """The previous word is a day of a month ("May 23, 1999")."""
    two_back: str
    """The word before the previous one ("Rs." of "Rs. 5 lakh")."""
    next_to_number: bool
    phone: bool


def contexts(cores: Sequence[str], trails: Sequence[str]) -> list[Context]:
    """The :class:`Context` of each word: ``cores`` (words without their edge
    punctuation) and ``trails`` (the punctuation after each core) are parallel lists,
    one item per whitespace word."""
    found: list[Context] = []
    lowers = [core.lower() for core in cores]
    numeric = [bool(NUMBER_RE.match(c) or FRACTION_RE.match(c) or RANGE_RE.match(c)) for c in cores]
    timed = [bool(TIME_RE.match(c) and ":" in c) or bool(NUMBER_RE.match(c)) for c in cores]
    groups = [bool(DIGITS_RE.match(c)) and len(c) >= 3 for c in cores]
    phone_like = [
        (g and (c.startswith("0") or len(c) >= 7)) or c.startswith("+")
        for g, c in zip(groups, cores, strict=True)
    ]
    months = vocab.MONTH_NAMES | vocab.MONTHS.keys()
    for i in range(len(cores)):
        before, after = i - 1, i + 1
        has_before, has_after = before >= 0, after < len(cores)
        phone = groups[i] and (
            # "call 1122", but "call 100 people" is a quantity
            (has_before and lowers[before] in vocab.DIALLING_WORDS and not cores[i].endswith("00"))
            or (has_before and phone_like[before] and not trails[before])
            or (has_after and phone_like[after] and not trails[i])
        )
        found.append(
            Context(
                index=i,
                previous=lowers[before] if has_before else "",
                previous_written=cores[before] if has_before else "",
                previous_ends_clause=has_before and bool(trails[before].strip(".")),
                following=lowers[after] if has_after else "",
                following_written=cores[after] if has_after else "",
                after_number=has_before and numeric[before],
                after_time=has_before and timed[before],
                before_half=has_after and lowers[after] in HALVES,
                after_day=before >= 1 and lowers[before - 1].rstrip(".") in months,
                two_back=lowers[before - 1] if before >= 1 else "",
                next_to_number=(has_before and numeric[before]) or (has_after and numeric[after]),
                phone=phone,
            )
        )
    return found
