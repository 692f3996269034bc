"""Offensive words the recogniser may write for a learner's speech, and hiding them.

tiny.en writes unclear speech as the nearest words it knows, which can be an offensive
one (a learner's "Ali" was shown back as a slur in the phrase-bank self-check). What
ustad shows as "what I heard" is the recogniser's text, except that an offensive word
the target sentence does not contain is never shown as a hearing of the learner: it is
replaced by :data:`UNCLEAR` (the word it stood for is then flagged as unclear, with no
heard text).

The list is the English word list shipped in ``better-profanity`` 0.7.0 (890 single
words; read from the installed package, so it works offline). It is broad (it also
holds "god", "fat", "kill"): hiding a harmless word costs only that the heard text is
not shown, while showing a slur to a learner is the fault this guards against.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import replace
from importlib import resources

from ustad.assess.types import WordResult, WordStatus

UNCLEAR = "(unclear)"
"""What is shown in place of a hidden word."""
WORD_LIST = ("better_profanity", "profanity_wordlist.txt")
"""Package and file of the word list."""


@functools.cache
def offensive_words() -> frozenset[str]:
    """The single words (lower case) of the word list; read from the installed package.

    Read once per process: the list is constant package data, and every assessment
    needs it (reading it per call was a file read on every English turn).

    Raises :class:`FileNotFoundError` when the package is not installed.
    """
    package, name = WORD_LIST
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and " " not in line
    )


def _bare(word: str) -> str:
    """A word without surrounding punctuation, lower case ("Damn!" -> damn)."""
    return word.strip().strip(".,;:!?\"'()[]{}“”‘’«»…-–—").lower()


def _parts(bare: str) -> list[str]:
    """The word and its letter runs ("mother-fucker" -> mother, fucker; "x's" -> x),
    letters folded to their base form (accents dropped: "fúck" -> fuck)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", bare) if not unicodedata.combining(c))
    return [bare, folded, *re.findall(r"[^\W\d_]+", folded)]


def hidden(word: str, allowed: frozenset[str], listed: frozenset[str]) -> bool:
    """Whether ``word`` (as heard, with any punctuation) is to be hidden.

    ``allowed`` holds the target's own words (lower case): a word the learner was asked
    to say is never hidden. ``listed`` is :func:`offensive_words`. The word counts as
    offensive when it, or one of its letter runs, is listed ("bitch's", "shit-faced").
    """
    bare = _bare(word)
    if not bare or bare in allowed:
        return False
    return any(part in listed and part not in allowed for part in _parts(bare))


def masked_text(text: str, allowed: frozenset[str], listed: frozenset[str]) -> str:
    """``text`` with each hidden word replaced by :data:`UNCLEAR`; the rest unchanged."""
    return re.sub(
        r"\S+", lambda m: UNCLEAR if hidden(m.group(), allowed, listed) else m.group(), text
    )


def masked_result(
    result: WordResult, allowed: frozenset[str], listed: frozenset[str]
) -> WordResult:
    """``result`` without heard text when that holds a hidden word (see :func:`hidden`).

    A target word keeps its status (flagged as unclear, nothing shown as heard); an
    extra word is shown as :data:`UNCLEAR`.
    """
    if result.heard is None or not any(hidden(w, allowed, listed) for w in result.heard.split()):
        return result
    word = UNCLEAR if result.status is WordStatus.INSERTED else result.word
    return replace(result, word=word, heard=None)
