"""What the service stores and reads back, one short transaction per call.

Every method opens its own session and commits before returning, so a caller never
holds a transaction across a model call or a network wait. The learn session's writes
can be repeated safely (the outbox replays a write whose first attempt may have been
stored): sessions and cycles are found again by their ``client_ref``, a turn by its
``turn_id``, and ending a session or a cycle keeps the first end.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ustad.store.database import Database
from ustad.store.models import (
    CLIENT_REF_MAX,
    EXTERNAL_ID_MAX,
    TURN_ID_MAX,
    Cycle,
    Learner,
    Session,
    Turn,
    utc_now,
)
from ustad.store.progress import LearnerProgress, SentenceProgress, learner_progress
from ustad.store.turns import TurnRecord, turn_record, turn_row
from ustad.vocabulary import CycleStatus, LanguageMode, TurnKind

__all__ = ["LearnerProgress", "Repository", "SentenceProgress", "TurnRecord"]

FINISHED_STATUSES = frozenset({CycleStatus.PASSED, CycleStatus.SKIPPED, CycleStatus.ABANDONED})


class StoreError(Exception):
    """A store operation was asked to do something the data does not allow."""


class NotFoundError(StoreError, LookupError):
    """A learner, session or cycle id that does not exist."""


class DuplicateTurnError(StoreError):
    """A turn with this ``turn_id`` was already recorded."""


class Repository:
    """Learners, sessions, cycles and turns on one ``Database``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_or_create_learner(self, external_id: str | None) -> int:
        """The id of the learner with this external id, created if new.

        ``None`` creates a new anonymous learner every time. Safe when two connections
        ask for the same new id at once: the loser of the insert race reads the winner's row.
        """
        check_external_id(external_id)
        if external_id is not None:
            found = await self._find_learner(external_id)
            if found is not None:
                return found
        try:
            async with self._db.transaction() as session:
                learner = Learner(external_id=external_id)
                session.add(learner)
                await session.flush()
                return learner.id
        except IntegrityError:
            # Another connection inserted the same external id between our select and insert.
            if external_id is None:
                raise
            found = await self._find_learner(external_id)
            if found is None:
                raise
            return found

    async def start_session(
        self,
        learner_id: int,
        language_mode: LanguageMode,
        *,
        client_ref: str | None = None,
        started_at: datetime | None = None,
    ) -> int:
        """Open a session (one WebSocket connection) and return its id.

        With a ``client_ref`` already stored, that session's id (nothing is added)."""
        _check_ref(client_ref)
        try:
            async with self._db.transaction() as session:
                await _require(session, Learner, learner_id)
                row = Session(
                    learner_id=learner_id,
                    language_mode=language_mode,
                    client_ref=client_ref,
                    started_at=started_at or utc_now(),
                )
                session.add(row)
                await session.flush()
                return row.id
        except IntegrityError:
            found = await self.session_by_ref(client_ref) if client_ref else None
            if found is None:
                raise
            return found

    async def open_session(
        self,
        client_ref: str,
        external_id: str | None,
        language_mode: LanguageMode,
        started_at: datetime,
    ) -> int:
        """The id of the session ``client_ref``, stored with its learner if new.

        Repeating the call returns the same id and adds nothing, for an anonymous learner
        (``external_id`` ``None``) too: the new learner and the session share a transaction.
        """
        found = await self.session_by_ref(client_ref)
        if found is not None:
            return found
        if external_id is not None:
            learner = await self.get_or_create_learner(external_id)
            return await self.start_session(
                learner, language_mode, client_ref=client_ref, started_at=started_at
            )
        _check_ref(client_ref)
        try:
            async with self._db.transaction() as session:
                anonymous = Learner(external_id=None, created_at=started_at)
                session.add(anonymous)
                await session.flush()
                row = Session(
                    learner_id=anonymous.id,
                    language_mode=language_mode,
                    client_ref=client_ref,
                    started_at=started_at,
                )
                session.add(row)
                await session.flush()
                return row.id
        except IntegrityError:
            found = await self.session_by_ref(client_ref)
            if found is None:
                raise
            return found

    async def session_by_ref(self, client_ref: str) -> int | None:
        """The id of the session stored with ``client_ref`` (``None``: none is)."""
        async with self._db.session() as session:
            return await session.scalar(select(Session.id).where(Session.client_ref == client_ref))

    async def cycle_by_ref(self, client_ref: str) -> int | None:
        """The id of the cycle stored with ``client_ref`` (``None``: none is)."""
        async with self._db.session() as session:
            return await session.scalar(select(Cycle.id).where(Cycle.client_ref == client_ref))

    async def end_session(self, session_id: int, ended_at: datetime | None = None) -> None:
        """Close a session (at ``ended_at``, default now); its active cycle becomes abandoned.

        Ending twice keeps the first end time.
        """
        now = ended_at or utc_now()
        async with self._db.transaction() as session:
            row = await _require(session, Session, session_id)
            if row.ended_at is None:
                row.ended_at = now
            await _abandon_active_cycles(session, session_id, now)

    async def reopen_session(self, session_id: int, cycle_id: int | None) -> None:
        """Continue a session whose connection dropped (it was resumed): it is no longer
        ended, and its cycle ``cycle_id``, if ``end_session`` abandoned it, is active again.

        A cycle that passed or was skipped keeps its outcome. Raises ``NotFoundError``."""
        async with self._db.transaction() as session:
            row = await _require(session, Session, session_id)
            row.ended_at = None
            if cycle_id is not None:
                cycle = await _require(session, Cycle, cycle_id)
                if cycle.session_id != session_id:
                    raise NotFoundError(f"cycle {cycle_id} is not of session {session_id}")
                if cycle.status == CycleStatus.ABANDONED:
                    cycle.status = CycleStatus.ACTIVE.value
                    cycle.ended_at = None

    async def start_cycle(
        self,
        session_id: int,
        urdu_sentence: str,
        english_sentence: str,
        provider: str,
        phrase_id: str | None,
        *,
        confidence: float | None = None,
        client_ref: str | None = None,
        started_at: datetime | None = None,
    ) -> int:
        """Begin practising a sentence; any active cycle of the session becomes abandoned.

        With a ``client_ref`` already stored, that cycle's id (nothing changes)."""
        _check_ref(client_ref)
        if client_ref is not None:
            found = await self.cycle_by_ref(client_ref)
            if found is not None:
                return found
        now = started_at or utc_now()
        try:
            async with self._db.transaction() as session:
                await _require(session, Session, session_id)
                await _abandon_active_cycles(session, session_id, now)
                cycle = Cycle(
                    session_id=session_id,
                    urdu_sentence=urdu_sentence,
                    english_sentence=english_sentence,
                    provider=provider,
                    phrase_id=phrase_id,
                    confidence=confidence,
                    status=CycleStatus.ACTIVE.value,
                    attempts=0,
                    started_at=now,
                    client_ref=client_ref,
                )
                session.add(cycle)
                await session.flush()
                return cycle.id
        except IntegrityError:
            found = await self.cycle_by_ref(client_ref) if client_ref else None
            if found is None:
                raise
            return found

    async def finish_cycle(
        self, cycle_id: int, status: CycleStatus, ended_at: datetime | None = None
    ) -> None:
        """End an active cycle as ``passed``, ``skipped`` or ``abandoned`` (at ``ended_at``,
        default now).

        A cycle that already ended keeps its first outcome, so a late call (say, after
        ``end_session`` abandoned it) changes nothing.
        """
        if status not in FINISHED_STATUSES:
            choices = ", ".join(sorted(FINISHED_STATUSES))
            raise ValueError(f"a cycle finishes as one of {choices}, not {status!r}")
        outcome = CycleStatus(status)
        async with self._db.transaction() as session:
            cycle = await _require(session, Cycle, cycle_id)
            if cycle.status == CycleStatus.ACTIVE:
                cycle.status = outcome.value
                cycle.ended_at = ended_at or utc_now()

    async def record_turn(self, turn: TurnRecord) -> None:
        """Store a turn; an English turn with a score also counts as an attempt of its cycle.

        The attempt count and best score change in the same transaction as the insert.
        """
        kind = TurnKind(turn.kind)  # a plain string that is no kind raises ValueError here
        if not 0 < len(turn.turn_id) <= TURN_ID_MAX:
            raise ValueError(f"turn_id must be 1 to {TURN_ID_MAX} characters")
        if turn.created_at is not None and turn.created_at.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware")
        try:
            async with self._db.transaction() as session:
                await _require(session, Session, turn.session_id)
                if turn.cycle_id is not None:
                    cycle = await _require(session, Cycle, turn.cycle_id)
                    if cycle.session_id != turn.session_id:
                        raise StoreError(
                            f"cycle {turn.cycle_id} belongs to session {cycle.session_id}, "
                            f"not {turn.session_id}"
                        )
                session.add(turn_row(turn, kind))
                if (
                    kind is TurnKind.ENGLISH_REPEAT
                    and turn.cycle_id is not None
                    and turn.overall_score is not None
                ):
                    await _count_attempt(session, turn.cycle_id, turn.overall_score)
        except IntegrityError as exc:
            if await self._turn_exists(turn.turn_id):
                raise DuplicateTurnError(f"turn {turn.turn_id!r} already recorded") from exc
            raise

    async def session_turns(self, session_id: int) -> list[TurnRecord]:
        """A session's turns, oldest first (empty for an unknown session)."""
        query = select(Turn).where(Turn.session_id == session_id).order_by(Turn.created_at, Turn.id)
        async with self._db.session() as session:
            rows = (await session.scalars(query)).all()
        return [turn_record(row) for row in rows]

    async def learner_progress(self, external_id: str) -> LearnerProgress | None:
        """Sessions, attempts and per-sentence results of a learner (``None`` if unknown)."""
        async with self._db.session() as session:
            return await learner_progress(session, external_id)

    async def _find_learner(self, external_id: str) -> int | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(Learner.id).where(Learner.external_id == external_id)
            )

    async def _turn_exists(self, turn_id: str) -> bool:
        async with self._db.session() as session:
            found = await session.scalar(select(Turn.id).where(Turn.turn_id == turn_id))
            return found is not None


_Row = TypeVar("_Row", Learner, Session, Cycle)


def check_external_id(external_id: str | None) -> None:
    """Raise ``ValueError`` for a learner external id the store cannot keep."""
    if external_id is not None and not 0 < len(external_id) <= EXTERNAL_ID_MAX:
        raise ValueError(f"external_id must be 1 to {EXTERNAL_ID_MAX} characters")


def _check_ref(client_ref: str | None) -> None:
    if client_ref is not None and not 0 < len(client_ref) <= CLIENT_REF_MAX:
        raise ValueError(f"client_ref must be 1 to {CLIENT_REF_MAX} characters")


async def _require(session: AsyncSession, model: type[_Row], row_id: int) -> _Row:
    row = await session.get(model, row_id)
    if row is None:
        raise NotFoundError(f"no {model.__tablename__} row with id {row_id}")
    return row


async def _abandon_active_cycles(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(Cycle)
        .where(Cycle.session_id == session_id, Cycle.status == CycleStatus.ACTIVE.value)
        .values(status=CycleStatus.ABANDONED.value, ended_at=now)
        .execution_options(synchronize_session=False)
    )


async def _count_attempt(session: AsyncSession, cycle_id: int, score: float) -> None:
    # One UPDATE computed by the database, so concurrent turns cannot lose an increment.
    best = case(
        (Cycle.best_score.is_(None), score),
        (Cycle.best_score < score, score),
        else_=Cycle.best_score,
    )
    await session.execute(
        update(Cycle)
        .where(Cycle.id == cycle_id)
        .values(attempts=Cycle.attempts + 1, best_score=best)
        .execution_options(synchronize_session=False)
    )
