"""What the phone stage says about each target word: its phones, when, and how well."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PhoneAlignmentError", "PhoneResult", "PhoneStatus", "WordPhones"]

PhoneStatus = Literal["ok", "mispronounced", "missing"]


class PhoneAlignmentError(ValueError):
    """The audio cannot be aligned to the words: empty, too short for their phones,
    too long, or not finite samples. The message says which."""


@dataclass(frozen=True)
class PhoneResult:
    """One target phone as said.

    ``phone`` is ARPAbet (no stress digit); ``start``/``end`` are seconds from the
    clip's start (20 ms resolution); ``gop`` the goodness of pronunciation, a natural-log
    likelihood ratio of the target phone against the best alternative (another phone,
    leaving it out, or a vowel inserted before it), > 0 when the target explains the
    audio best; ``score`` 0-100 (:func:`ustad.speech.phones.scoring.phone_score`);
    ``status`` ok / mispronounced / missing; ``heard`` the ARPAbet of the best
    alternative when the phone is not ok ("" when left out; "IH S" for a vowel
    inserted before S), else "".
    """

    phone: str
    start: float
    end: float
    gop: float
    score: int
    status: PhoneStatus
    heard: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times rounded to 10 ms, GOP to 0.01)."""
        return {
            "phone": self.phone,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "gop": round(self.gop, 2),
            "score": self.score,
            "status": self.status,
            "heard": self.heard,
        }


@dataclass(frozen=True)
class WordPhones:
    """A target word's phones (in order) with a word score 0-100 (mean phone score)
    and status: missing when most of its phones are, mispronounced when any phone
    is not ok, else ok. A word with nothing to say (punctuation) has no phones,
    score 100 and status ok."""

    word: str
    phones: tuple[PhoneResult, ...]
    score: int
    status: PhoneStatus

    @property
    def flagged(self) -> tuple[PhoneResult, ...]:
        """The phones that are not ok."""
        return tuple(p for p in self.phones if p.status != "ok")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "word": self.word,
            "score": self.score,
            "status": self.status,
            "phones": [p.to_dict() for p in self.phones],
        }
