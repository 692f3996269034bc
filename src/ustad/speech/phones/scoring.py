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
from types import MappingProxyType
from typing import Final

from ustad.speech.phones.arpabet import is_vowel
from ustad.speech.phones.types import PhoneResult, PhoneStatus, WordPhones

__all__ = [
    "CONFUSIONS",
    "CONSONANT_THRESHOLD",
    "DELETION_THRESHOLD",
    "GOP_CLIP",
    "TYPICAL_THRESHOLD",
    "VOWEL_THRESHOLD",
    "WORD_THRESHOLD",
    "accuracy",
    "phone_score",
    "sentence_gop",
    "threshold",
    "word_gop",
    "word_phones",
]

CONSONANT_THRESHOLD: Final = -10.0
"""A consonant whose GOP (against every alternative) is below this is mispronounced (or
missing) whatever the alternative: another phone is e^10 times likelier. Set loose on
purpose: on espeak-ng's renderings of phrase-bank sentences the recogniser often
prefers another consonant for a correct one by a few nats (weak /h/, /θ/ heard as
/t/ or /f/), so tighter values flag correct speech (benchmarks/phone_quality.py)."""

VOWEL_THRESHOLD: Final = -14.0
"""The same for vowels, looser still: vowel quality varies across accents and reduces
in unstressed syllables; the confusions a tutor must catch for Urdu speakers are
consonants (:data:`CONFUSIONS`)."""

TYPICAL_THRESHOLD: Final = 0.0
"""A phone is also not ok when one of its typical confusions (:data:`CONFUSIONS`)
explains the audio better than it by more than ``-TYPICAL_THRESHOLD`` nats: the
confusions a learner is known to make need less evidence than any other phone (the
idea of an extended recognition network: Harrison et al., "Implementation of an
extended recognition network for mispronunciation detection and diagnosis in
computer-assisted pronunciation training", SLaTE 2009)."""

DELETION_THRESHOLD: Final = -3.0
""":data:`TYPICAL_THRESHOLD` for a typical deletion (a dropped /h/): leaving the phone
out must be e^3 ≈ 20 times likelier than saying it. /h/ is weak and the recogniser
often misses espeak-ng's; on the controlled renderings (benchmarks/phone_quality.py,
40 with /h/ dropped, 149 unchanged sentences) -3 names 0.45 of the drops with 0.87 of
unchanged sentences clean, -2 0.70 and 0.80, 0 0.85 and 0.72."""

CONFUSIONS: Final = MappingProxyType(
    {
        "V": ("W",),
        "W": ("V",),
        "TH": ("T",),
        "DH": ("D",),
        "Z": ("JH",),
        "ZH": ("JH",),
        "JH": ("Z",),
        "HH": ("",),
        "S": ("* S",),
    }
)
"""Typical confusions of Urdu speakers learning English, per target phone (ARPAbet;
"" = the phone left out; "* S" = a vowel inserted before a word-initial S cluster):
/v/ and /w/ merged, /θ/ and /ð/ said as dental stops, /z/ as /dʒ/, "istation", /h/
dropped (issue 13; Mahboob & Ahmar, "Pakistani English: phonology", in *A Handbook of
Varieties of English*, 2004)."""

GOP_CLIP: Final = 20.0
"""GOP values are clipped to ±this before averaging (:func:`word_gop`, :func:`sentence_gop`)."""

WORD_THRESHOLD: Final = -2.0
"""A word whose mean phone GOP (:func:`word_gop`) is below this is mispronounced even
when no single phone crosses its threshold: the word said was another word. On 150
speechocean762 clips, 97 % of content words swapped for another content word fall
below it, and 8.6 % of the content words of the clips' own sentences (Mandarin-L1
learners; some are mispronounced); at -3: 94 % and 3.3 %."""


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
    is not ok or the mean GOP is below :data:`WORD_THRESHOLD`, else ok."""
    if not phones:
        return WordPhones(word, (), 100, "ok")
    score = round(sum(p.score for p in phones) / len(phones))
    missing = sum(1 for p in phones if p.status == "missing")
    status: PhoneStatus = "ok"
    if missing * 2 > len(phones):
        status = "missing"
    elif any(p.status != "ok" for p in phones) or word_gop(phones) < WORD_THRESHOLD:
        status = "mispronounced"
    return WordPhones(word, tuple(phones), score, status)


def word_gop(phones: Sequence[PhoneResult]) -> float:
    """Mean GOP of ``phones``, each clipped to ±:data:`GOP_CLIP` (``-GOP_CLIP`` if none)."""
    values = [max(-GOP_CLIP, min(GOP_CLIP, p.gop)) for p in phones]
    return sum(values) / len(values) if values else -GOP_CLIP


def accuracy(words: Sequence[WordPhones]) -> float:
    """Accuracy 0-100 of an attempt from its phones: the mean phone score over all the
    target's phones (each word weighs by its phones), in the spirit of Azure
    Pronunciation Assessment, whose word and sentence accuracy aggregate phoneme
    accuracy. 100 when no word has phones."""
    scores = [p.score for w in words for p in w.phones]
    return sum(scores) / len(scores) if scores else 100.0


def sentence_gop(words: Sequence[WordPhones]) -> float:
    """Mean GOP over all phones of the words, each clipped to ±:data:`GOP_CLIP`
    (``-GOP_CLIP`` when there are no phones)."""
    return word_gop([p for w in words for p in w.phones])
