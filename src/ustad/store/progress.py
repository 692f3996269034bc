"""A learner's history read back for a progress panel: sessions, attempts, sentences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ustad.store.models import Cycle, Learner, Session, Turn
from ustad.vocabulary import CycleStatus


@dataclass(frozen=True)
class SentenceProgress:
    """How a learner has done on one English sentence, over all sessions."""

    english: str
    urdu: str
    """The Urdu the learner said most recently for it."""
    attempts: int
    best_score: float | None
    passed: bool
    """Passed at least once."""
    last_practised: datetime


@dataclass(frozen=True)
class LearnerProgress:
    """A learner's history, for a progress panel."""

    external_id: str
    sessions: int
    total_attempts: int
    sentences: tuple[SentenceProgress, ...]
    """Most recently practised first."""


async def learner_progress(session: AsyncSession, external_id: str) -> LearnerProgress | None:
    """Sessions, attempts and per-sentence results of a learner (``None`` if unknown)."""
    learner_id = await session.scalar(select(Learner.id).where(Learner.external_id == external_id))
    if learner_id is None:
        return None
    sessions = await session.scalar(
        select(func.count()).select_from(Session).where(Session.learner_id == learner_id)
    )
    rows = await session.execute(cycles_query(learner_id))
    sentences = _by_sentence((cycle, last, bool(passed)) for cycle, last, passed in rows)
    return LearnerProgress(
        external_id=external_id,
        sessions=sessions or 0,
        total_attempts=sum(s.attempts for s in sentences),
        sentences=sentences,
    )


def cycles_query(learner_id: int) -> Select[Cycle, datetime, Any]:
    """Every cycle of a learner with its last turn's time (``None`` without turns) and
    whether a turn passed (1 or 0). Served by ``ix_sessions_learner_id``,
    ``ix_cycles_session_id_status`` and the covering ``ix_turns_cycle_id_created_at_passed``."""
    last_turn = func.max(Turn.created_at)
    turn_passed = func.max(case((Turn.passed.is_(True), 1), else_=0))
    return (
        select(Cycle, last_turn, turn_passed)
        .join(Session, Session.id == Cycle.session_id)
        .outerjoin(Turn, Turn.cycle_id == Cycle.id)
        .where(Session.learner_id == learner_id)
        .group_by(Cycle.id)
    )


def _by_sentence(
    cycles: Iterable[tuple[Cycle, datetime | None, bool]],
) -> tuple[SentenceProgress, ...]:
    """Fold cycles (with their last turn time and whether a turn passed) into one entry per
    English sentence, most recently practised first."""
    merged: dict[str, SentenceProgress] = {}
    for cycle, last_turn, turn_passed in cycles:
        touched = max(t for t in (cycle.started_at, cycle.ended_at, last_turn) if t is not None)
        current = SentenceProgress(
            english=cycle.english_sentence,
            urdu=cycle.urdu_sentence,
            attempts=cycle.attempts,
            best_score=cycle.best_score,
            passed=cycle.status == CycleStatus.PASSED or turn_passed,
            last_practised=touched,
        )
        previous = merged.get(cycle.english_sentence)
        if previous is not None:
            newer, older = (
                (current, previous)
                if current.last_practised > previous.last_practised
                else (previous, current)
            )
            scores = [s for s in (newer.best_score, older.best_score) if s is not None]
            current = SentenceProgress(
                english=newer.english,
                urdu=newer.urdu,
                attempts=newer.attempts + older.attempts,
                best_score=max(scores) if scores else None,
                passed=newer.passed or older.passed,
                last_practised=newer.last_practised,
            )
        merged[cycle.english_sentence] = current
    return tuple(sorted(merged.values(), key=lambda s: s.last_practised, reverse=True))
