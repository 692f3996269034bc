"""One learner's session, with no transport in it.

``LearnSession`` feeds events to the ``LearnMachine`` and carries out its
actions: an utterance goes to the ``TurnProcessor``; a reply is synthesised; the
message and its audio leave through the ``LearnerPort`` while the turn's store writes
(its cycle ended or started, the turn itself) are committed in order (or, if the
database does not take them in time, go to the recorder's outbox on local disk), so
the learner does not wait for the database. The session handles its next event only
once they are done, they are made also when sending fails, and a read of the
learner's progress waits for them (``TurnRecorder.settled``). The WebSocket route is
one adapter of that port; a test can be another. The session's whole state
(``SessionState``) is a plain value.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from ustad.learn.events import (
    Action,
    CycleEnded,
    CycleStarted,
    Event,
    Ignored,
    InputRejected,
    Reply,
    Work,
)
from ustad.learn.machine import LearnMachine, LearnState
from ustad.learn.processor import TurnOutcome, TurnProcessor
from ustad.learn.recorder import TurnRecorder, new_ref
from ustad.logs import for_log
from ustad.runtime.audio_urls import audio_url
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import AudioFormat
from ustad.vocabulary import ErrorCode, LanguageMode

log = logging.getLogger(__name__)

MAX_TURN_WRITES = 3
"""Most store writes one turn holds: its cycle ended, a new cycle started, the turn."""


@dataclass(frozen=True)
class ReplyAudio:
    """The audio that follows a speaking reply (``bytes`` is 0 if synthesis failed)."""

    format: AudioFormat
    bytes: int
    url: str | None = None
    """Where the same bytes can be fetched again (disk audio store only)."""


@dataclass(frozen=True)
class ServerMessage:
    """One message to the client: a reply and what the session adds to it."""

    reply: Reply
    language_mode: LanguageMode
    timings: Mapping[str, float]
    """Milliseconds per stage, plus ``total``, ``engine``, ``queue`` and ``overhead``."""
    turn_id: str | None = None
    """Set on the reply that answers an utterance."""
    audio: ReplyAudio | None = None


class LearnerPort(Protocol):
    """How a session reaches its client. A port whose client has gone drops what it is
    given; it never raises for that."""

    async def send_message(self, message: ServerMessage) -> None:
        """Send one message."""

    async def send_audio(self, audio: bytes) -> None:
        """Send the audio of the message just sent."""


@dataclass(frozen=True)
class LearnContext:
    """What every session shares, built once in the app's lifespan."""

    processor: TurnProcessor
    speech: SpeechService
    recorder: TurnRecorder
    metrics: ServiceMetrics
    audio_base_url: str | None = None
    """Put before ``/v1/audio/...`` in ``audio_url`` (``None``: a relative URL)."""


@dataclass(frozen=True)
class SessionState:
    """A session as a plain value: its store references and ids and the machine's state.

    ``session_ref`` and ``cycle_ref`` name the session and its cycle in the store (set once
    opened, and while a cycle runs); the ids are known only when the database stored them
    at once (``None`` while the write waits in the outbox)."""

    learn: LearnState = field(default_factory=LearnState)
    session_id: int | None = None
    cycle_id: int | None = None
    session_ref: str | None = None
    cycle_ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``SessionState.from_dict`` reads it back)."""
        return {
            "learn": self.learn.to_dict(),
            "session_id": self.session_id,
            "cycle_id": self.cycle_id,
            "session_ref": self.session_ref,
            "cycle_ref": self.cycle_ref,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        """The state ``to_dict`` wrote; raises ``ValueError`` on anything else."""
        try:
            ids = [data.get("session_id"), data.get("cycle_id")]
            if any(value is not None and not isinstance(value, int) for value in ids):
                raise ValueError("session_id and cycle_id are integers or null")
            refs = [data.get("session_ref"), data.get("cycle_ref")]
            if any(value is not None and not isinstance(value, str) for value in refs):
                raise ValueError("session_ref and cycle_ref are strings or null")
            return cls(LearnState.from_dict(data["learn"]), ids[0], ids[1], refs[0], refs[1])
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a session state: {error}") from error


class _Turn:
    """Bookkeeping for the utterance being answered."""

    def __init__(self, cycle_ref: str | None) -> None:
        self.turn_id = uuid.uuid4().hex
        self.timer = TurnTimer()
        self.cycle_ref = cycle_ref
        self.outcome: TurnOutcome | None = None
        self.writes: list[Callable[[], Awaitable[object]]] = []
        """Store writes held until the reply is ready, in the order they were made."""


class LearnSession:
    """Drives one learner's session: handle, process, reply and store."""

    def __init__(
        self,
        context: LearnContext,
        port: LearnerPort,
        mode: LanguageMode = "urdu",
        *,
        state: SessionState | None = None,
    ) -> None:
        self.context = context
        self.port = port
        state = state or SessionState(LearnState(mode=mode))
        self.machine = LearnMachine(state=state.learn)
        self.session_id = state.session_id
        self.cycle_id = state.cycle_id
        self.session_ref = state.session_ref
        self.cycle_ref = state.cycle_ref
        self._writing: asyncio.Task[None] | None = None
        """The last turn's write task, running while its reply is sent (``_commit`` and
        ``close`` wait for it)."""

    @property
    def state(self) -> SessionState:
        """The session as a plain value (to keep outside the process, or to test)."""
        return SessionState(
            self.machine.snapshot, self.session_id, self.cycle_id, self.session_ref, self.cycle_ref
        )

    @property
    def label(self) -> str:
        """How logs name the session: its id, or its reference while it has no id yet."""
        return str(self.session_id) if self.session_id is not None else f"ref:{self.session_ref}"

    async def open(self, learner_id: str | None) -> None:
        """Register the learner and the session (``ValueError`` for a learner id the store
        refuses). It opens while the database is down too: the write waits in the outbox."""
        session_ref = new_ref()
        self.session_id = await self.context.recorder.open_session(
            session_ref, learner_id, self.machine.mode
        )
        self.session_ref = session_ref
        self.context.metrics.sessions_active += 1
        learner = for_log(learner_id) if learner_id is not None else "anonymous"
        log.info("session %s opened (learner %s)", self.label, learner)

    async def reopen(self) -> bool:
        """Continue the stored session this one was built from (``state=``) after its
        connection dropped: it and its cycle are open again in the store. ``False`` if the
        store could not re-open it now; then this session must not be used."""
        assert self.session_ref is not None, "a resumed session has a session_ref"
        if not await self.context.recorder.reopen_session(self.session_ref, self.cycle_ref):
            return False
        self.context.metrics.sessions_active += 1
        log.info("session %s resumed in %s", self.label, self.machine.state.value)
        return True

    async def resend(self) -> None:
        """Send the client of a re-opened session what its state expects next (not
        stored as turns: nothing was said)."""
        for action in self.machine.resume():
            await self._perform(action, None)

    async def close(self, *, end: bool = True) -> None:
        """Mark the session ended (an unfinished cycle stays stored as abandoned);
        ``end=False`` when another connection resumed it and carries on."""
        if self.session_ref is None:
            return
        self.context.metrics.sessions_active -= 1
        if not end:
            log.info("session %s handed over to another connection", self.label)
            return
        if self._writing is not None and not self._writing.done():
            # Only after a cancelled turn: its writes go on, and the end comes after them.
            await asyncio.wait(
                {self._writing}, timeout=self.context.recorder.deadline(MAX_TURN_WRITES)
            )
        await self.context.recorder.end_session(self.session_ref)
        log.info("session %s closed", self.label)

    async def handle(self, event: Event) -> None:
        """Feed one client event to the machine and carry out its actions, in order."""
        if isinstance(event, InputRejected):
            detail = f" ({event.detail})" if event.detail else ""
            log.warning("session %s bad input: %s%s", self.label, event.code.value, detail)
        for action in self.machine.handle(event):
            await self._perform(action, None)

    async def _perform(self, action: Action, turn: _Turn | None) -> None:
        """Carry out one action (``turn`` is set while answering an utterance)."""
        recorder = self.context.recorder
        match action:
            case Work():
                await self._work(action)
            case Reply():
                await self._reply(action, turn)
            case CycleStarted(target):
                assert self.session_ref is not None, "open() first"
                session_ref, cycle_ref = self.session_ref, new_ref()

                async def start_cycle() -> None:
                    self.cycle_id = await recorder.start_cycle(session_ref, cycle_ref, target)

                self.cycle_ref = cycle_ref
                if turn is not None:
                    turn.cycle_ref = cycle_ref
                await self._write(start_cycle, turn)
            case CycleEnded(status):
                if self.session_ref is not None and self.cycle_ref is not None:
                    write = partial(recorder.finish_cycle, self.session_ref, self.cycle_ref, status)
                    await self._write(write, turn)
                self.cycle_id = self.cycle_ref = None
            case Ignored(reason):
                log.info("session %s ignored %s", self.label, reason)

    async def _work(self, work: Work) -> None:
        """Process an utterance and answer it; a failure inside ustad is an error reply."""
        turn = _Turn(cycle_ref=self.cycle_ref)
        with turn.timer.current():
            try:
                outcome = await self.context.processor.process(
                    work, self.machine.target, turn.timer
                )
            except Exception:
                log.exception("turn %s failed", turn.turn_id)
                outcome = TurnOutcome(InputRejected(ErrorCode.INTERNAL), work.kind)
            turn.outcome = outcome
            if isinstance(outcome.event, InputRejected):
                log.warning(
                    "session %s turn %s rejected: %s (%s)",
                    self.label,
                    turn.turn_id,
                    outcome.event.code.value,
                    outcome.event.detail,
                )
            try:
                for action in self.machine.handle(outcome.event):
                    await self._perform(action, turn)
            finally:
                await self._commit(turn)

    @staticmethod
    async def _write(write: Callable[[], Awaitable[object]], turn: _Turn | None) -> None:
        """Do a store write now, or, while answering an utterance, hold it for the reply."""
        if turn is None:
            await write()
        else:
            turn.writes.append(write)

    def _start_commit(self, turn: _Turn) -> None:
        """Start committing the turn's held writes, in order, in a task of their own: the
        reply is sent meanwhile, and a send that stalls does not hold the writes back."""
        if not turn.writes:
            return
        writes, turn.writes = turn.writes, []
        self._writing = asyncio.create_task(self._run_writes(writes, turn.turn_id))
        self.context.recorder.track(self._writing, len(writes))

    async def _commit(self, turn: _Turn) -> None:
        """Return once the turn's writes are stored (or journaled by the recorder), in order."""
        if self._writing is not None and not self._writing.done():
            # Shielded: a session cancelled here still completes its turn's writes.
            await asyncio.shield(self._writing)
        if turn.writes:
            writes, turn.writes = turn.writes, []
            await self._run_writes(writes, turn.turn_id)

    async def _run_writes(
        self, writes: list[Callable[[], Awaitable[object]]], turn_id: str
    ) -> None:
        started = time.perf_counter()
        for write in writes:
            try:
                await write()
            except Exception:
                # The recorder journals what the database does not take; anything else
                # is a bug, which must not end a session whose reply may have gone out.
                log.exception("a store write of turn %s failed", turn_id)
        self.context.metrics.observe_stage("store", (time.perf_counter() - started) * 1000.0)

    async def _reply(self, reply: Reply, turn: _Turn | None) -> None:
        """Synthesise, then send the message and its audio; see ``_answer`` for the store."""
        if turn is None:  # a reply to an ack: its engine calls are charged to it alone
            timer = TurnTimer()
            with timer.current():
                await self._answer(reply, turn, timer)
            return
        await self._answer(reply, turn, turn.timer)

    async def _answer(self, reply: Reply, turn: _Turn | None, timer: TurnTimer) -> None:
        """Synthesise ``reply`` and send it while the turn's writes are committed: the
        learner does not wait for the database; the session handles its next event only
        once they are stored (``_work``), and a progress read waits for them
        (``TurnRecorder.settled``)."""
        audio, speech = None, self.context.speech
        reply_audio: ReplyAudio | None = None
        if reply.speak:
            url = None
            try:
                with timer.stage("tts"):
                    stored = await speech.speak_stored(reply.spoken)
                audio = stored.data
                if stored.on_disk:
                    # The same bytes, cacheable by URL (the audio frame still follows).
                    url = audio_url(self.context.audio_base_url, stored)
            except Exception:
                log.exception("speech synthesis failed for %s", reply.step.value)
                audio = b""
            reply_audio = ReplyAudio(speech.tts.audio_format, len(audio), url)
        timings = timer.as_dict()
        if turn is not None and turn.outcome is not None and self.session_ref is not None:
            # Bounded: a database that is down or hung sends the turn to the outbox.
            record = partial(
                self.context.recorder.record_turn,
                turn_id=turn.turn_id,
                session_ref=self.session_ref,
                cycle_ref=turn.cycle_ref,
                mode=self.machine.mode,
                outcome=turn.outcome,
                reply=reply,
                target=self.machine.target,
                timings=timings,
            )
            await self._write(record, turn)
        if turn is not None:
            self._start_commit(turn)
            self._observe(turn, reply, timings)
        await self.port.send_message(
            ServerMessage(
                reply=reply,
                language_mode=self.machine.mode,
                timings=timings,
                turn_id=turn.turn_id if turn is not None else None,
                audio=reply_audio,
            )
        )
        if audio is not None:
            await self.port.send_audio(audio)

    def _observe(self, turn: _Turn, reply: Reply, timings: Mapping[str, float]) -> None:
        self.context.metrics.observe_turn(reply.step.value, timings)
        executor = self.context.speech.executor.stats()
        log.info(
            "turn %s %s",
            turn.turn_id,
            reply.step.value,
            extra={
                "timings": dict(timings),
                "session_id": self.session_id,
                "session_ref": self.session_ref,
                "step": reply.step.value,
                "kind": turn.outcome.kind.value if turn.outcome is not None else None,
                # Calls still waiting for an engine thread as this turn ends: a
                # non-zero value means other sessions' turns are queueing.
                "executor_queued": executor.queued,
                "executor_running": executor.running,
            },
        )
