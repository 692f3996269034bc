"""Storing a learn session: the session row, its cycles and every answered turn.

A store failure while learning is logged and survives: the learner still gets the
reply (a lost row is bad; a broken lesson is worse). Opening the session is the
exception, since a session that cannot be stored has nowhere to keep its turns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ustad.learn.events import Reply, Target
from ustad.learn.processor import TurnOutcome
from ustad.store.repository import Repository, TurnRecord
from ustad.vocabulary import CycleStatus, LanguageMode

log = logging.getLogger(__name__)


class TurnRecorder:
    """The learn layer's view of the ``Repository``."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository

    async def open_session(self, learner_id: str | None, mode: LanguageMode) -> int:
        """Register the learner (``None``: a new anonymous one) and a session; its id.

        Raises ``ValueError`` for a learner id the store refuses, and the database's
        errors."""
        learner = await self.repository.get_or_create_learner(learner_id)
        return await self.repository.start_session(learner, mode)

    async def end_session(self, session_id: int) -> None:
        """Mark the session ended (an unfinished cycle stays stored as abandoned)."""
        try:
            await self.repository.end_session(session_id)
        except Exception:
            log.exception("could not close session %s", session_id)

    async def start_cycle(self, session_id: int, target: Target) -> int | None:
        """Store a new cycle; its id, or ``None`` if it could not be stored."""
        try:
            return await self.repository.start_cycle(
                session_id, target.urdu, target.english, target.provider, target.phrase_id
            )
        except Exception:
            log.exception("could not store the new cycle of session %s", session_id)
            return None

    async def finish_cycle(self, cycle_id: int | None, status: CycleStatus) -> None:
        """End a stored cycle (nothing to do for one that was never stored)."""
        if cycle_id is None:
            return
        try:
            await self.repository.finish_cycle(cycle_id, status)
        except Exception:
            log.exception("could not end cycle %s", cycle_id)

    async def record_turn(
        self,
        *,
        turn_id: str,
        session_id: int,
        cycle_id: int | None,
        mode: LanguageMode,
        outcome: TurnOutcome,
        reply: Reply,
        target: Target | None,
        timings: Mapping[str, float],
    ) -> None:
        """Commit one answered turn; ``target`` is the sentence being practised, if any."""
        assessment = outcome.assessment
        language = outcome.language
        record = TurnRecord(
            turn_id=turn_id,
            session_id=session_id,
            cycle_id=cycle_id,
            kind=outcome.kind,
            step=reply.step,
            language_mode=mode,
            transcript=outcome.transcript,
            detected_language=language.language if language else None,
            language_probability=language.probability if language else None,
            urdu_sentence=reply.urdu_sentence or (target.urdu if target else None),
            english_sentence=reply.english_sentence or (target.english if target else None),
            assessment=assessment.to_dict() if assessment else None,
            overall_score=assessment.scores.overall if assessment else None,
            passed=assessment.passed if assessment else None,
            timings=dict(timings),
            audio_seconds=outcome.audio_seconds,
            error_code=outcome.error,
        )
        try:
            await self.repository.record_turn(record)
        except Exception:
            log.exception("could not store turn %s", turn_id)
