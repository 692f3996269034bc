"""Storing a learn session: the session row, its cycles and every answered turn.

No store failure may break a lesson or lose a turn. Each write is tried at once, for at
most ``timeout`` seconds; a write the database does not take in that time (it is down,
hung or refusing connections) goes to the ``Outbox``, a journal on local disk that a
background task replays in order until it is stored, and the session carries on. While
the outbox holds anything, new writes queue behind it instead of racing ahead, so a turn
is never written before its session or cycle. Sessions and cycles are named by a
``client_ref`` the session makes up (``new_ref``), so a session opens even while the
database is down; the database ids come back only from writes stored at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping

from ustad.learn.events import Reply, Target
from ustad.learn.processor import TurnOutcome
from ustad.learn.store_ops import (
    EndSession,
    FinishCycle,
    OpenSession,
    RecordTurn,
    ReopenSession,
    StartCycle,
    StoreOp,
    StoreWriter,
    describe,
    to_entry,
)
from ustad.runtime.outbox import Outbox, is_transient, within
from ustad.store.models import utc_now
from ustad.store.repository import TurnRecord, check_external_id
from ustad.vocabulary import CycleStatus, LanguageMode

log = logging.getLogger(__name__)


def new_ref() -> str:
    """A new client reference for a session or a cycle (a UUID in hex)."""
    return uuid.uuid4().hex


class TurnRecorder:
    """The learn layer's view of the store: writes now, or through ``outbox`` later.

    ``timeout`` (seconds) is the longest a write may hold up the session."""

    def __init__(self, writer: StoreWriter, outbox: Outbox, *, timeout: float = 2.0) -> None:
        self.writer = writer
        self.outbox = outbox
        self.timeout = timeout
        self._behind: dict[asyncio.Task[None], float] = {}
        """Turns' write tasks still running, with the loop time by which they end (the
        dict also keeps them from being collected)."""

    def deadline(self, writes: int) -> float:
        """Seconds ``writes`` writes may take at most: each is bounded by ``timeout``,
        then journaled (one more second for the outbox's fsync)."""
        return writes * self.timeout + 1.0

    def track(self, task: asyncio.Task[None], writes: int) -> None:
        """Count ``task`` (a turn's ``writes`` writes, made while its reply is sent) as in
        flight until it ends, for :meth:`settled`."""
        self._behind[task] = asyncio.get_running_loop().time() + self.deadline(writes)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._behind.pop(task, None)

    async def settled(self) -> None:
        """Return once the write tasks in flight now have ended (or are past their
        :meth:`deadline`): a read made after this sees every turn whose reply this
        process sent before it. Another worker's writes are not known here, and a write
        the database did not take waits in the outbox."""
        if not self._behind:
            return
        pending = dict(self._behind)
        wait = max(pending.values()) - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.wait(pending, timeout=wait)

    async def open_session(
        self, session_ref: str, learner_id: str | None, mode: LanguageMode
    ) -> int | None:
        """Register the learner (``None``: a new anonymous one) and the session; its id
        when stored at once (``None``: it waits in the outbox).

        Raises ``ValueError`` for a learner id the store refuses; never the database's errors.
        """
        check_external_id(learner_id)
        return await self._submit(OpenSession(session_ref, learner_id, mode, utc_now()))

    async def end_session(self, session_ref: str) -> None:
        """Mark the session ended (an unfinished cycle stays stored as abandoned)."""
        await self._submit(EndSession(session_ref, utc_now()))

    async def reopen_session(self, session_ref: str, cycle_ref: str | None) -> bool:
        """Continue a resumed session (and its cycle) that ``end_session`` closed; whether
        that was stored now. Never journaled: while the outbox holds writes (maybe this
        session's end) or the database does not take it at once, or does not know the
        session yet (its first writes wait in another worker's outbox), it is ``False``
        and the caller starts a new session instead, so no later write can miss its rows.
        """
        if self.outbox.held:
            log.warning("session %s not re-opened: the outbox holds writes", session_ref)
            return False
        op = ReopenSession(session_ref, cycle_ref)
        try:
            await within(self.timeout, self.writer.write(op))
        except Exception as error:
            log.warning("session %s not re-opened (%r)", session_ref, error)
            return False
        return True

    async def start_cycle(self, session_ref: str, cycle_ref: str, target: Target) -> int | None:
        """Store a new cycle; its id when stored at once (``None``: it waits in the outbox)."""
        return await self._submit(StartCycle(session_ref, cycle_ref, target, utc_now()))

    async def finish_cycle(self, session_ref: str, cycle_ref: str, status: CycleStatus) -> None:
        """End a cycle as passed, skipped or abandoned."""
        await self._submit(FinishCycle(session_ref, cycle_ref, status, utc_now()))

    async def record_turn(
        self,
        *,
        turn_id: str,
        session_ref: str,
        cycle_ref: str | None,
        mode: LanguageMode,
        outcome: TurnOutcome,
        reply: Reply,
        target: Target | None,
        timings: Mapping[str, float],
    ) -> None:
        """Store one answered turn; ``target`` is the sentence being practised, if any."""
        assessment = outcome.assessment
        language = outcome.language
        record = TurnRecord(
            turn_id=turn_id,
            session_id=0,  # resolved from session_ref when written
            cycle_id=None,
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
            created_at=utc_now(),
        )
        await self._submit(RecordTurn(session_ref, cycle_ref, record))

    async def _submit(self, op: StoreOp) -> int | None:
        """Write ``op`` now, or journal it; the id it created if written now."""
        if not self.outbox.held:
            try:
                return await within(self.timeout, self.writer.write(op))
            except Exception as error:
                if not is_transient(error):
                    # Replaying data the store refuses would fail the same way.
                    log.exception("the store refused %s", describe(op))
                    self.outbox.refused()
                    return None
                log.warning("store unavailable (%r); %s goes to the outbox", error, describe(op))
        try:
            await self.outbox.put(to_entry(op))
        except OSError:
            log.exception("could neither store nor journal %s", describe(op))
        return None
