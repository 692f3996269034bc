"""From goodness of pronunciation (GOP) to scores and statuses.

GOP here is a log-likelihood ratio (natural log) over the frames around a phone: the
CTC likelihood of the target sequence against the best of the alternatives where the
phone is replaced by another phone, left out, or preceded by an inserted vowel (the
substitution/deletion form of GOP of Witt & Young, Speech Communication 30, 2000,
computed from CTC posteriors as in the alignment-free GOP of Cao et al., 2024). GOP > 0:
the target explains the audio better than any alternative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from ustad.speech.phones.arpabet import is_vowel
from ustad.speech.phones.types import PhoneResult, PhoneStatus, WordPhones

__all__ = [
    "CONSONANT_THRESHOLD",
    "GOP_CLIP",
    "VOWEL_THRESHOLD",
    "phone_score",
    "sentence_gop",
    "threshold",
    "word_phones",
]

CONSONANT_THRESHOLD: Final = -3.0
"""A consonant whose GOP is below this is mispronounced (or missing): the alternative is
e^3 ≈ 20 times likelier than the target. Chosen on the controlled renderings of
benchmarks/phone_quality.py (see docs/measurements.md, "Phones and GOP")."""

VOWEL_THRESHOLD: Final = -6.0
"""The same for vowels, stricter on the evidence: vowel quality varies across accents
and reduces in unstressed syllables, and the confusions a tutor must catch for Urdu
speakers are consonants (v/w, th/t, dh/d, z/j, s-clusters, h)."""

GOP_CLIP: Final = 20.0
"""GOP values are clipped to ±this before averaging (:func:`sentence_gop`)."""


def threshold(phone: str) -> float:
    """The GOP below which ``phone`` (ARPAbet) is not ok."""
    return VOWEL_THRESHOLD if is_vowel(phone) else CONSONANT_THRESHOLD


def phone_score(gop: float, phone: str) -> int:
    """Score 0-100 of a phone: ``100 · σ(gop − threshold(phone))`` rounded, σ the
    logistic function; 50 at the threshold (below it the phone is flagged), about 95
    three nats above it."""
    margin = max(-50.0, min(50.0, gop - threshold(phone)))
    return round(100.0 / (1.0 + math.exp(-margin)))


def word_phones(word: str, phones: Sequence[PhoneResult]) -> WordPhones:
    """A word's result from its phones: score = mean phone score (100 without phones);
    missing when more than half its phones are missing, mispronounced when any phone
    is not ok, else ok."""
    if not phones:
        return WordPhones(word, (), 100, "ok")
    score = round(sum(p.score for p in phones) / len(phones))
    missing = sum(1 for p in phones if p.status == "missing")
    status: PhoneStatus = "ok"
    if missing * 2 > len(phones):
        status = "missing"
    elif any(p.status != "ok" for p in phones):
        status = "mispronounced"
    return WordPhones(word, tuple(phones), score, status)


def sentence_gop(words: Sequence[WordPhones]) -> float:
    """Mean GOP over all phones of the words, each clipped to ±:data:`GOP_CLIP`
    (``-GOP_CLIP`` when there are no phones)."""
    values = [max(-GOP_CLIP, min(GOP_CLIP, p.gop)) for w in words for p in w.phones]
    return sum(values) / len(values) if values else -GOP_CLIP
