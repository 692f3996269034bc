"""Number words and digits.

Whisper writes numbers as digits ("2648", "1990", "3rd", "$5", "10:30", "50%") while
target sentences spell them out ("TWO SIX FOUR EIGHT"). A digit token can be read in
several ways, so :func:`readings` lists every plausible reading as a word sequence and
the aligner keeps the one that fits the target best. Cardinals and ordinals come from
``num2words``; the readings built on them (years, times, money, digit groups) are ours.
"""

from __future__ import annotations

import re

from num2words import num2words

Reading = tuple[str, ...]

ONES: tuple[str, ...] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
TENS: tuple[str, ...] = (
    "",
    "",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
)
SCALES: tuple[tuple[int, str], ...] = (
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
)
CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    # symbol: (unit singular, unit plural, hundredth singular, hundredth plural)
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "₨": ("rupee", "rupees", "paisa", "paise"),
}
MAX_CARDINAL = 10**15 - 1

_ORDINAL_RE = re.compile(r"^(\d+)(st|nd|rd|th)$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_DECIMAL_RE = re.compile(r"^(\d+)\.(\d+)$")
_PLAIN_RE = re.compile(r"^\d+$")
_DECADE_RE = re.compile(r"^(\d*0)'?s$")
_MONEY_RE = re.compile(r"^([$£€₨])(\d+)(?:\.(\d{2}))?$")
_THOUSANDS_RE = re.compile(r"^\d{1,3}(,\d{3})+")


def has_digit(token: str) -> bool:
    """Whether a token contains a digit (and so needs a reading)."""
    return any(ch.isdigit() for ch in token)


def digit_words(digits: str) -> Reading:
    """Digit by digit: ``"2648"`` -> two six four eight."""
    return tuple(ONES[int(d)] for d in digits if d.isdigit())


def _num2words_tokens(spoken: str, *, with_and: bool) -> Reading:
    """num2words' text as single words: commas dropped, hyphens split, "and" optional."""
    words = spoken.replace(",", " ").replace("-", " ").split()
    return tuple(w for w in words if with_and or w != "and")


def cardinal_words(n: int, *, with_and: bool = False) -> Reading:
    """The cardinal number: ``2648`` -> two thousand six hundred forty eight.

    Built on ``num2words`` (English). ``with_and`` gives the British form ("six hundred
    and forty eight"); the default is the American one. Past :data:`MAX_CARDINAL` no
    one says the number as a quantity, so it is read digit by digit.
    """
    if n < 0:
        return ("minus", *cardinal_words(-n, with_and=with_and))
    if n > MAX_CARDINAL:
        return digit_words(str(n))
    return _num2words_tokens(num2words(n, lang="en"), with_and=with_and)


def ordinal_words(n: int) -> Reading:
    """The ordinal number: ``3`` -> third, ``21`` -> twenty first (``num2words``).

    Past :data:`MAX_CARDINAL`: the digits, the last one as an ordinal."""
    if n < 0:
        return ("minus", *ordinal_words(-n))
    if n > MAX_CARDINAL:
        head, last = divmod(n, 10)
        return (*digit_words(str(head)), *ordinal_words(last))
    return _num2words_tokens(num2words(n, lang="en", to="ordinal"), with_and=False)


def _pair_words(n: int) -> Reading:
    """Two digits as said in years and times: 5 -> oh five, 0 -> hundred-less form."""
    if n < 10:
        return ("oh", ONES[n])
    return cardinal_words(n)


def year_words(n: int) -> tuple[Reading, ...]:
    """Year-style readings of a four-digit number, most usual first.

    1990 -> nineteen ninety; 1905 -> nineteen oh five; 1900 -> nineteen hundred;
    2005 -> two thousand five / twenty oh five.
    """
    if not 1000 <= n <= 9999:
        return ()
    high, low = divmod(n, 100)
    found: list[Reading] = []
    if high % 10 == 0 and low < 10:
        # 2000-2009 and 1000-1009 are read as cardinals first ("two thousand five").
        found.append(cardinal_words(n))
    if low == 0:
        found.append((*cardinal_words(high), "hundred"))
    else:
        found.append((*cardinal_words(high), *_pair_words(low)))
    return tuple(found)


def time_words(hours: int, minutes: int) -> tuple[Reading, ...]:
    """Clock readings: 10:30 -> ten thirty; 10:00 -> ten o'clock / ten; 10:05 -> ten oh five."""
    hour = cardinal_words(hours)
    if minutes == 0:
        return ((*hour, "o'clock"), hour, (*hour, "hundred"))
    return ((*hour, *_pair_words(minutes)),)


def _unique(items: list[Reading]) -> tuple[Reading, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def _plain_readings(digits: str) -> list[Reading]:
    n = int(digits)
    by_digit = digit_words(digits)
    with_oh = tuple("oh" if word == "zero" else word for word in by_digit)
    if digits.startswith("0") and len(digits) > 1:
        # A leading zero means a code or phone number, never a quantity.
        return [by_digit, with_oh]
    found: list[Reading] = []
    if len(digits) == 4:
        found += year_words(n)
    if n <= MAX_CARDINAL:
        found += [cardinal_words(n), cardinal_words(n, with_and=True)]
    found += [by_digit, with_oh]
    if len(digits) in (3, 4):
        # Room/phone-number style: "264" -> two sixty four, "2648" -> twenty six forty eight.
        split = len(digits) - 2
        head, tail = int(digits[:split]), int(digits[split:])
        rest = ("hundred",) if tail == 0 else _pair_words(tail)
        found.append((*cardinal_words(head), *rest))
    if len(digits) > 4 and len(digits) % 2 == 0:
        # Long digit strings are often read in pairs.
        pairs: list[str] = []
        for i in range(0, len(digits), 2):
            pairs += (
                digit_words(digits[i : i + 2])
                if digits[i] == "0"
                else cardinal_words(int(digits[i : i + 2]))
            )
        found.append(tuple(pairs))
    return found


def _money_readings(symbol: str, whole: str, cents: str | None) -> list[Reading]:
    unit, units, sub, subs = CURRENCIES[symbol]
    n = int(whole)
    name = unit if n == 1 else units
    found: list[Reading] = []
    for amount in _unique(_plain_readings(whole)):
        if cents is None or int(cents) == 0:
            found += [(*amount, name), amount]
        else:
            c = int(cents)
            sub_name = sub if c == 1 else subs
            found += [
                (*amount, name, *cardinal_words(c)),
                (*amount, name, "and", *cardinal_words(c), sub_name),
                (*amount, name, *cardinal_words(c), sub_name),
                (*amount, "point", *digit_words(cents)),
            ]
    return found


def readings(token: str) -> tuple[Reading, ...]:
    """Every plausible way to say a digit token, most usual first.

    ``token`` is one lower-case word as Whisper wrote it without surrounding
    punctuation ("2648", "2,648", "1990", "1990s", "3rd", "$5", "$5.50", "10:30",
    "50%", "3.5"). A token without digits gives its own text as the only reading;
    digits mixed with letters in other ways are read digit by digit plus the letters.
    """
    text = token.strip().lower()
    if not has_digit(text):
        return ((text,),) if text else ()
    if _THOUSANDS_RE.match(text):
        text = text.replace(",", "")
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    found: list[Reading] = []
    if m := _MONEY_RE.match(text):
        found = _money_readings(m.group(1), m.group(2), m.group(3))
    elif m := _TIME_RE.match(text):
        found = list(time_words(int(m.group(1)), int(m.group(2))))
    elif m := _ORDINAL_RE.match(text):
        found = [ordinal_words(int(m.group(1))), digit_words(m.group(1))]
    elif m := _DECIMAL_RE.match(text):
        for whole in _unique(_plain_readings(m.group(1))):
            found.append((*whole, "point", *digit_words(m.group(2))))
    elif m := _DECADE_RE.match(text):
        for reading in _unique(_plain_readings(m.group(1))):
            found.append((*reading[:-1], _plural_number(reading[-1])))
    elif _PLAIN_RE.match(text):
        found = _plain_readings(text)
    else:
        found = [_mixed_reading(text)]
    if percent:
        found = [
            variant
            for reading in found
            for variant in ((*reading, "percent"), (*reading, "per", "cent"))
        ]
    return _unique(found)


def _plural_number(word: str) -> str:
    """Plural of a number word: ninety -> nineties, six -> sixes."""
    if word.endswith("y"):
        return word[:-1] + "ies"
    if word.endswith(("x", "s")):
        return word + "es"
    return word + "s"


def _mixed_reading(text: str) -> Reading:
    """Digits mixed with letters ("b12", "4x4"): runs of digits as cardinals, letters kept."""
    words: list[str] = []
    for run in re.findall(r"\d+|[a-z']+", text):
        if run.isdigit():
            words += cardinal_words(int(run)) if int(run) <= MAX_CARDINAL else digit_words(run)
        else:
            words.append(run)
    return tuple(words)


_WORD_VALUES: dict[str, int] = {word: value for value, word in enumerate(ONES)} | {
    word: 10 * value for value, word in enumerate(TENS) if word
}
_SCALE_VALUES: dict[str, int] = {"hundred": 100} | {name: value for value, name in SCALES}


def words_to_number(words: tuple[str, ...] | list[str]) -> int | None:
    """The value of a spelled cardinal ("two thousand six hundred and forty eight" -> 2648).

    Returns ``None`` when the words are not one well-formed cardinal; digit strings read
    digit by digit ("two six four eight") are not cardinals and give ``None``.
    """
    words = [w for w in words if w != "and"]
    if not words:
        return None
    if words == ["zero"]:
        return 0
    total = 0
    current = 0  # the part since the last thousand/million/...
    last = ""  # kind of the previous word: "", unit, teen, ten, hundred, scale
    last_scale = MAX_CARDINAL + 1
    for word in words:
        value = _WORD_VALUES.get(word)
        if value is not None:
            kind = "ten" if value >= 20 else ("teen" if value >= 10 else "unit")
            if value == 0 or last in ("unit", "teen") or (last == "ten" and kind != "unit"):
                return None
            current += value
            last = kind
        elif word == "hundred":
            if not 0 < current < 100 or last in ("", "hundred", "scale"):
                return None
            current *= 100
            last = "hundred"
        elif word in _SCALE_VALUES:
            scale = _SCALE_VALUES[word]
            if current == 0 or scale >= last_scale:
                return None
            total += current * scale
            current = 0
            last, last_scale = "scale", scale
        else:
            return None
    return total + current
