"""A turn as the store keeps it, and its conversion to and from the ``turns`` row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ustad.store.models import Turn, utc_now
from ustad.vocabulary import ErrorCode, LanguageMode, Step, TurnKind


@dataclass(frozen=True)
class TurnRecord:
    """One utterance the server answered, as stored."""

    turn_id: str
    """The protocol's ``turn_id`` (a UUID string); unique."""
    session_id: int
    cycle_id: int | None
    """``None`` when no cycle exists yet (e.g. no speech at the Urdu step)."""
    kind: TurnKind
    step: Step
    """The step answered: ``you_said_audio``, ``await_next``, ``no_speech`` ..."""
    language_mode: LanguageMode
    transcript: str | None = None
    detected_language: str | None = None
    language_probability: float | None = None
    urdu_sentence: str | None = None
    english_sentence: str | None = None
    assessment: Mapping[str, Any] | None = None
    overall_score: float | None = None
    passed: bool | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    """Milliseconds per stage."""
    audio_seconds: float | None = None
    error_code: ErrorCode | None = None
    """The code the client was sent with an ``error`` reply."""
    created_at: datetime | None = None
    """``None`` means "now" when recorded; always set on turns read back."""


def turn_row(turn: TurnRecord, kind: TurnKind) -> Turn:
    """The row of ``turn`` (``kind`` already checked); ``created_at`` ``None`` is now."""
    return Turn(
        turn_id=turn.turn_id,
        session_id=turn.session_id,
        cycle_id=turn.cycle_id,
        kind=kind.value,
        step=turn.step,
        language_mode=turn.language_mode,
        transcript=turn.transcript,
        detected_language=turn.detected_language,
        language_probability=turn.language_probability,
        urdu_sentence=turn.urdu_sentence,
        english_sentence=turn.english_sentence,
        assessment=None if turn.assessment is None else dict(turn.assessment),
        overall_score=turn.overall_score,
        passed=turn.passed,
        timings=dict(turn.timings),
        audio_seconds=turn.audio_seconds,
        error_code=turn.error_code,
        created_at=turn.created_at or utc_now(),
    )


def turn_record(row: Turn) -> TurnRecord:
    """The ``TurnRecord`` of a stored row."""
    return TurnRecord(
        turn_id=row.turn_id,
        session_id=row.session_id,
        cycle_id=row.cycle_id,
        kind=TurnKind(row.kind),
        step=Step(row.step),
        language_mode="english" if row.language_mode == "english" else "urdu",
        transcript=row.transcript,
        detected_language=row.detected_language,
        language_probability=row.language_probability,
        urdu_sentence=row.urdu_sentence,
        english_sentence=row.english_sentence,
        assessment=row.assessment,
        overall_score=row.overall_score,
        passed=row.passed,
        timings=row.timings,
        audio_seconds=row.audio_seconds,
        error_code=None if row.error_code is None else ErrorCode(row.error_code),
        created_at=row.created_at,
    )
