"""Is a machine translation fit to be the sentence a learner practises?

Whisper's speech translation has no reference to be checked against, so the checks
are on what can go wrong without one, the way the recogniser's output is checked
(``ustad.speech.whisper.checks``): a decoding loop, a phrase said again ("The
government and the government and the government are starting ..."), a text too
long or too short for the clip, one cut off mid-sentence, letters of another script,
and a decode the model itself was unsure of (its mean token log-prob). A target that
fails any of them is not taught: the learner is asked to say it again.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ustad.speech.whisper.checks import has_repetition_loop

_FUNCTION_WORDS = """
    a an the and or but nor so yet if than then as of to in on at by for with from into
    onto about over under up down out off after before since until while because though
    although i me my mine you your yours he him his she her hers it its we us our ours
    they them their theirs this that these those there here who whom whose which what
    when where why how is am are was were be been being do does did done have has had
    will would shall should can could may might must not no very too also just all any
    some each every one more most much many such own same other only
"""
_DANGLING_WORDS = """
    a an the and or but nor of to with from into than as if because my your our their very
"""

FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
"""English words a sentence may repeat without saying anything twice ("in the morning
and in the evening"); a repeated run of words holding any other word is a repeated
phrase."""

DANGLING_WORDS = frozenset(_DANGLING_WORDS.split())
"""Words a finished English sentence does not end on: a translation that stops on one
was cut off ("... starting to do a lot of"). Words that may end one ("Come in.", "I
saw her.", "Yes, I can.") are not among them."""

_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019.\-][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class TargetGuard:
    """The limits a translation must keep to be taught; defaults in ``ustad.settings``.

    Figures: real Urdu speech (the two Common Voice clips, 2.4 and 2.3 Urdu words a
    second) translates to 1.5-3.3 English words a second of clip, silence included;
    fast English speech reaches 3.5 words a second (speechocean762, whose clips include
    their silence) and the recogniser's own limit is 4.5 (``checks.MAX_WORDS_PER_SECOND``).
    """

    min_logprob: float = -1.5
    """Mean token log-prob (natural log) below which the model's own decode is too unsure
    to teach."""
    max_words_per_second: float = 4.5
    """More words than this per second of clip (plus ``extra_words``) is invented text."""
    extra_words: int = 2
    """Words allowed on top of ``max_words_per_second`` ("Thank you very much." in 1 s)."""
    min_words_per_second: float = 0.5
    """Fewer words than this per second of clip past its first second is a fragment of
    what was said."""
    lexicon: Container[str] | None = None
    """Lower-case English words (``english_lexicon()``); ``None`` skips the check."""
    max_unknown_share: float = 0.4
    """Share of the words (two at least) outside ``lexicon`` above which the text is not
    English but Urdu written in Latin letters ("Maybe Shadi Hoshokki.")."""

    def fault(self, text: str, *, seconds: float, avg_logprob: float) -> str | None:
        """Why ``text`` (English, as decoded) cannot be a target, or ``None`` when it can.

        ``seconds`` is the clip's length; ``avg_logprob`` the decode's mean token
        log-prob (0.0 when unknown: only the text is checked). The reasons are short
        phrases for logs: ``empty``, ``not English``, ``loop``, ``repeated phrase``,
        ``too long``, ``too short``, ``cut off``, ``unsure``.
        """
        if not any(ch.isalnum() for ch in text):
            return "empty"
        words = english_words(text)
        if not words or not _latin_only(text):
            return "not English"
        if self._unknown(words):
            return "not English"
        if has_repetition_loop(words):
            return "loop"
        if repeated_phrase(words) is not None:
            return "repeated phrase"
        if len(words) > self.extra_words + self.max_words_per_second * seconds:
            return "too long"
        if len(words) < self.min_words_per_second * (seconds - 1.0):
            return "too short"
        if words[-1] in DANGLING_WORDS and not text.rstrip().endswith(("?", "!")):
            return "cut off"
        if avg_logprob < self.min_logprob:
            return "unsure"
        return None

    def _unknown(self, words: Sequence[str]) -> bool:
        """Whether too many of ``words`` are not English words (digits do not count)."""
        if self.lexicon is None:
            return False
        lexicon = self.lexicon
        parts = [part for word in words for part in word.split("-") if _has_letters(part)]
        # "world's", "don't": the word or what comes before its apostrophe.
        unknown = sum(p not in lexicon and p.split("'")[0] not in lexicon for p in parts)
        return unknown >= 2 and unknown > self.max_unknown_share * len(parts)


def english_lexicon() -> Container[str]:
    """pyspellchecker's English word list (about 160,000 lower-case words, names of
    people and places among them; American spellings). Loading takes about a second and
    the set keeps about 20 MB (the checker's frequency table is dropped): load it once."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def english_words(text: str) -> list[str]:
    """Lower-case words of ``text``: runs of Latin letters and digits, keeping inner
    apostrophes, dots and hyphens ("don't", "9.15", "Wi-Fi")."""
    return [match.group().lower().replace("\u2019", "'") for match in _LATIN_WORD.finditer(text)]


def repeated_phrase(words: Sequence[str]) -> tuple[str, ...] | None:
    """The first phrase said twice in ``words``, or ``None``.

    A phrase is two or more words in a row holding at least one word outside
    ``FUNCTION_WORDS`` ("the government" twice is a repeat, "in the" twice is not), or
    such a word doubled ("government government"). Where the phrase comes again does
    not matter: "the road started with the construction of the road" repeats one.
    """
    for first, second in pairwise(words):
        if first == second and first not in FUNCTION_WORDS:
            return (first,)
    seen: set[tuple[str, str]] = set()
    for pair in pairwise(words):
        if all(word in FUNCTION_WORDS for word in pair):
            continue
        if pair in seen:
            return pair
        seen.add(pair)
    return None


def confidence_of(avg_logprob: float) -> float:
    """A decode's confidence, 0-1: the geometric mean of its token probabilities
    (``exp`` of the mean token log-prob), rounded to 4 places."""
    return round(math.exp(min(0.0, avg_logprob)), 4)


def _has_letters(word: str) -> bool:
    return any(ch.isalpha() for ch in word)


def _latin_only(text: str) -> bool:
    """Whether every letter in ``text`` is a Latin letter (accents allowed)."""
    return all(
        "LATIN" in unicodedata.name(ch, "") for ch in text if unicodedata.category(ch)[0] == "L"
    )
