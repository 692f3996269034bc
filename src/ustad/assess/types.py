"""The result of assessing one English attempt."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ustad.speech.phones.types import WordPhones


class WordStatus(StrEnum):
    """What happened to one word of the target (or one extra word)."""

    CORRECT = "correct"
    MISPRONOUNCED = "mispronounced"
    OMITTED = "omitted"
    INSERTED = "inserted"


@dataclass(frozen=True)
class WordResult:
    """One target word (or an inserted extra word) and how it was said."""

    word: str
    """The target word as written in the target (or the extra word heard)."""
    status: WordStatus
    heard: str | None = None
    """What the recogniser heard in its place (``None`` when omitted)."""
    confidence: float | None = None
    """Recogniser confidence (0-1) of the heard word."""
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Scores:
    """Scores from 0 to 100."""

    overall: float
    accuracy: float
    completeness: float
    fluency: float


@dataclass(frozen=True)
class Assessment:
    """An attempt scored against its target."""

    target: str
    transcript: str
    scores: Scores
    passed: bool
    words: tuple[WordResult, ...]
    speech_rate_wpm: float | None = None
    longest_pause_seconds: float | None = None
    phones: tuple[WordPhones, ...] = ()
    """Each target word's phones with their scores (``assessment.phones``; empty when
    the phone stage did not run)."""

    def with_phones(self, phones: tuple[WordPhones, ...]) -> Assessment:
        """This assessment carrying the phone stage's result for its target words."""
        return replace(self, phones=phones)

    @property
    def words_to_practise(self) -> tuple[str, ...]:
        """Target words that were mispronounced or omitted, in order, without repeats."""
        seen: dict[str, None] = {}
        for result in self.words:
            if result.status in (WordStatus.MISPRONOUNCED, WordStatus.OMITTED):
                seen.setdefault(result.word, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        """The ``assessment`` field of ``await_next`` / ``feedback_step`` (JSON-ready).

        With phones (:meth:`with_phones`) it also has ``"phones"``: per target word
        ``{"word", "score", "status", "phones": [{"phone", "start", "end", "gop",
        "score", "status", "heard"}]}`` (:meth:`ustad.speech.phones.types.WordPhones.to_dict`).
        """
        return {
            "overall": round(self.scores.overall, 1),
            "accuracy": round(self.scores.accuracy, 1),
            "completeness": round(self.scores.completeness, 1),
            "fluency": round(self.scores.fluency, 1),
            "passed": self.passed,
            "target": self.target,
            "transcript": self.transcript,
            "speech_rate_wpm": None
            if self.speech_rate_wpm is None
            else round(self.speech_rate_wpm, 1),
            "longest_pause_seconds": None
            if self.longest_pause_seconds is None
            else round(self.longest_pause_seconds, 2),
            "words": [
                {
                    "word": w.word,
                    "status": w.status.value,
                    "heard": w.heard,
                    "confidence": None if w.confidence is None else round(w.confidence, 3),
                    "start": None if w.start is None else round(w.start, 2),
                    "end": None if w.end is None else round(w.end, 2),
                }
                for w in self.words
            ],
        } | ({"phones": [w.to_dict() for w in self.phones]} if self.phones else {})
