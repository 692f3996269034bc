"""The result of assessing one English attempt."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ustad.speech.phones.scoring import accuracy as phone_accuracy
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
    """Each target word's phones with their scores, one entry per target word in order
    (the non-inserted ``words``; ``assessment.phones``). Empty when the phone stage did
    not run or could not align the audio."""

    def with_phones(self, phones: tuple[WordPhones, ...]) -> Assessment:
        """This assessment carrying the phone stage's result for its target words
        (``phones[i]`` for the i-th word of ``words`` that is not inserted). A result
        of another length than the target words is ignored (no phones)."""
        targets = sum(1 for w in self.words if w.status is not WordStatus.INSERTED)
        return replace(self, phones=phones if len(phones) == targets else ())

    @property
    def pronunciation(self) -> float | None:
        """Pronunciation accuracy 0-100 from the phones: the mean phone score over all
        the target's phones (a word weighs by its phones;
        :func:`ustad.speech.phones.scoring.accuracy`), in the spirit of Azure
        Pronunciation Assessment, whose word and sentence accuracy aggregate phoneme
        accuracy. ``None`` without phones. Informational: ``passed`` and the word
        statuses do not use it (phase-1 figures, docs/measurements.md)."""
        return phone_accuracy(self.phones) if self.phones else None

    def word_phones(self) -> tuple[tuple[WordResult, WordPhones | None], ...]:
        """Each entry of ``words`` with its phones (``None`` for inserted words, or
        for every word when the phone stage did not run)."""
        found = iter(self.phones)
        return tuple(
            (w, None if w.status is WordStatus.INSERTED else next(found, None)) for w in self.words
        )

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

        With phones (:meth:`with_phones`) it also has ``"pronunciation"``
        (:attr:`pronunciation`, 0-100, one decimal) and every target word of ``"words"``
        has ``"phone_score"`` (0-100, the mean score of its phones; ``None`` for a word
        with nothing to say) and ``"phones"``: ``[{"phone", "start", "end", "gop",
        "score", "status", "heard"}]``
        (:meth:`ustad.speech.phones.types.PhoneResult.to_dict`). Inserted words never
        have them. The other keys mean the same with or without phones.
        """
        pronunciation = self.pronunciation
        extra = {} if pronunciation is None else {"pronunciation": round(pronunciation, 1)}
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
            "words": [_word_dict(w, phones) for w, phones in self.word_phones()],
        } | extra


def _word_dict(word: WordResult, phones: WordPhones | None) -> dict[str, Any]:
    """One entry of the assessment's ``"words"``, with its phones when it has any."""
    found: dict[str, Any] = {
        "word": word.word,
        "status": word.status.value,
        "heard": word.heard,
        "confidence": None if word.confidence is None else round(word.confidence, 3),
        "start": None if word.start is None else round(word.start, 2),
        "end": None if word.end is None else round(word.end, 2),
    }
    if phones is not None:
        found["phone_score"] = phones.score if phones.phones else None
        found["phones"] = [p.to_dict() for p in phones.phones]
    return found
