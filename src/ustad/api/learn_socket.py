"""The ``/ws/learn`` transport: WebSocket frames in, protocol messages out.

It only moves bytes: messages become events for the learner's ``LearnMachine``;
``Work`` goes to the ``TurnProcessor``; replies are synthesised, the turn is
committed to the store, and then the JSON frame and its audio frame are sent.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ustad.api.audio_files import audio_url
from ustad.api.messages import parse_binary, parse_text
from ustad.runtime.timing import TurnTimer
from ustad.services import Services
from ustad.store.repository import TurnRecord
from ustad.tutor.machine import (
    Action,
    CycleEnded,
    CycleStarted,
    Event,
    Ignored,
    InputRejected,
    LearnMachine,
    Reply,
    Work,
)
from ustad.tutor.texts import ErrorCode, Mode
from ustad.tutor.turns import TurnOutcome

log = logging.getLogger(__name__)

router = APIRouter()


@router.websocket("/ws/learn")
async def learn(
    websocket: WebSocket, learner_id: str | None = None, language_mode: str | None = None
) -> None:
    """One learner's session (``?learner_id=`` keeps history across connections)."""
    services: Services = websocket.app.state.services
    await websocket.accept()
    mode: Mode = "english" if language_mode == "english" else "urdu"
    session = LearnSession(services, websocket, mode)
    try:
        await session.open(learner_id)
        await session.run()
    except WebSocketDisconnect:
        pass
    except Exception:
        # A bug must end only this learner's session, never the server.
        log.exception("session %s failed", session.session_id)
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=1011)
    finally:
        await session.close()


class LearnSession:
    """Drives one connection: parse, handle, process, store, reply."""

    def __init__(self, services: Services, websocket: WebSocket, mode: Mode) -> None:
        self.services = services
        self.websocket = websocket
        self.machine = LearnMachine(mode)
        self.session_id: int | None = None
        self.cycle_id: int | None = None
        self.limits = services.settings.limits

    async def open(self, learner_id: str | None) -> None:
        """Register the learner and the session."""
        repo = self.services.repository
        learner = await repo.get_or_create_learner(learner_id)
        self.session_id = await repo.start_session(learner, self.machine.mode)
        self.services.metrics.sessions_active += 1
        log.info("session %s opened (learner %s)", self.session_id, learner_id or "anonymous")

    async def close(self) -> None:
        """Mark the session ended (an unfinished cycle stays stored as abandoned)."""
        if self.session_id is None:
            return
        self.services.metrics.sessions_active -= 1
        try:
            await self.services.repository.end_session(self.session_id)
        except Exception:
            log.exception("could not close session %s", self.session_id)
        log.info("session %s closed", self.session_id)

    async def run(self) -> None:
        """Receive until the client goes away; one message is handled at a time."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                events = parse_binary(message["bytes"], max_bytes=self.limits.max_message_bytes)
            else:
                events = parse_text(
                    message.get("text") or "", max_bytes=self.limits.max_message_bytes
                )
            for event in events:
                await self.dispatch(event)

    async def dispatch(self, event: Event) -> None:
        """Feed one event to the machine and carry out its actions."""
        if isinstance(event, InputRejected):
            log.warning(
                "session %s bad input: %s%s",
                self.session_id,
                event.code.value,
                f" ({event.detail})" if event.detail else "",
            )
        for action in self.machine.handle(event):
            await self.perform(action, None)

    async def perform(self, action: Action, turn: _Turn | None) -> None:
        """Carry out one action (``turn`` is set while answering an utterance)."""
        match action:
            case Work():
                await self.work(action)
            case Reply():
                await self.reply(action, turn)
            case CycleStarted(target):
                assert self.session_id is not None
                self.cycle_id = None
                try:
                    self.cycle_id = await self.services.repository.start_cycle(
                        self.session_id,
                        target.urdu,
                        target.english,
                        target.provider,
                        target.phrase_id,
                    )
                except Exception:
                    log.exception("could not store the new cycle of session %s", self.session_id)
                if turn is not None:
                    turn.cycle_id = self.cycle_id
            case CycleEnded(status):
                if self.cycle_id is not None:
                    try:
                        await self.services.repository.finish_cycle(self.cycle_id, status)
                    except Exception:
                        log.exception("could not end cycle %s", self.cycle_id)
                self.cycle_id = None
            case Ignored(reason):
                log.info("session %s ignored %s", self.session_id, reason)

    async def work(self, work: Work) -> None:
        """Process an utterance and answer it."""
        turn = _Turn(cycle_id=self.cycle_id)
        with turn.timer.current():
            await self._work(work, turn)

    async def _work(self, work: Work, turn: _Turn) -> None:
        target = self.machine.target
        try:
            outcome = await self.services.processor.process(work, target, turn.timer)
        except Exception:
            log.exception("turn %s failed", turn.turn_id)
            outcome = TurnOutcome(InputRejected(ErrorCode.INTERNAL), work.kind, error="internal")
        turn.outcome = outcome
        if isinstance(outcome.event, InputRejected):
            log.warning(
                "session %s turn %s rejected: %s (%s)",
                self.session_id,
                turn.turn_id,
                outcome.event.code.value,
                outcome.event.detail,
            )
        for action in self.machine.handle(outcome.event):
            await self.perform(action, turn)

    async def reply(self, reply: Reply, turn: _Turn | None) -> None:
        """Synthesise, store the turn, then send the JSON frame and its audio frame."""
        timer = turn.timer if turn is not None else TurnTimer()
        message: dict[str, Any] = {"step": reply.step.value, "response": reply.spoken.text}
        message.update(reply.fields)
        message["language_mode"] = self.machine.mode
        audio: bytes | None = None
        if reply.speak:
            speech = self.services.speech
            try:
                with timer.stage("tts"):
                    stored = await speech.speak_stored(reply.spoken)
                audio = stored.data
                if stored.on_disk:
                    # The same bytes, cacheable by URL (the binary frame still follows).
                    base_url = self.services.settings.audio_store.public_base_url
                    message["audio_url"] = audio_url(base_url, stored)
            except Exception:
                log.exception("speech synthesis failed for %s", reply.step.value)
                audio = b""
            message["audio_format"] = speech.output.format
            message["audio_bytes"] = len(audio)
        if turn is not None:
            message["turn_id"] = turn.turn_id
            await self.store_turn(turn, reply, timer)
        message["timings"] = timer.as_dict()
        if turn is not None:
            self.services.metrics.observe_turn(reply.step.value, message["timings"])
            executor = self.services.executor.stats()
            log.info(
                "turn %s %s",
                turn.turn_id,
                reply.step.value,
                extra={
                    "timings": message["timings"],
                    "session_id": self.session_id,
                    "step": reply.step.value,
                    "kind": turn.outcome.kind if turn.outcome is not None else None,
                    # Calls still waiting for an engine thread as this turn ends: a
                    # non-zero value means other sessions' turns are queueing.
                    "executor_queued": executor.queued,
                    "executor_running": executor.running,
                },
            )
        if self.websocket.application_state is not WebSocketState.CONNECTED:
            return
        await self.websocket.send_json(message)
        if audio is not None:
            await self.websocket.send_bytes(audio)

    async def store_turn(self, turn: _Turn, reply: Reply, timer: TurnTimer) -> None:
        """Commit the turn before its reply leaves (a failure is logged, not fatal)."""
        outcome = turn.outcome
        if outcome is None or self.session_id is None:
            return
        target = self.machine.target
        assessment = outcome.assessment
        try:
            with timer.stage("store"):
                await self.services.repository.record_turn(
                    TurnRecord(
                        turn_id=turn.turn_id,
                        session_id=self.session_id,
                        cycle_id=turn.cycle_id,
                        kind=outcome.kind,
                        step=reply.step.value,
                        language_mode=self.machine.mode,
                        transcript=outcome.transcript,
                        detected_language=outcome.detected_language,
                        language_probability=outcome.language_probability,
                        urdu_sentence=reply.fields.get("urdu_sentence")
                        or (target.urdu if target else None),
                        english_sentence=reply.fields.get("english_sentence")
                        or (target.english if target else None),
                        assessment=assessment.to_dict() if assessment else None,
                        overall_score=assessment.scores.overall if assessment else None,
                        passed=assessment.passed if assessment else None,
                        timings=timer.as_dict(),
                        audio_seconds=outcome.audio_seconds,
                        error_code=outcome.error,
                    )
                )
        except Exception:
            log.exception("could not store turn %s", turn.turn_id)


class _Turn:
    """Bookkeeping for the utterance being answered."""

    def __init__(self, cycle_id: int | None) -> None:
        self.turn_id = uuid.uuid4().hex
        self.timer = TurnTimer()
        self.cycle_id = cycle_id
        self.outcome: TurnOutcome | None = None
