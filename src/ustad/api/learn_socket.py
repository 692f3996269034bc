"""The ``/ws/learn`` route: WebSocket frames in, a ``LearnSession``'s messages out.

This adapter only moves frames and guards the door. A connection is admitted when
the process has a session slot, its origin, credentials and rate are acceptable
(``api/auth.py``, ``api/rate_limits.py``); then each frame is parsed into events
(``api/messages.py``) for the learner's ``LearnSession``, which does all the work
and answers through ``WebSocketPort`` (JSON from ``api/wire.py``, then the audio).
A session that idles or stops reading its replies is closed and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocketState

from ustad.api.admission import (
    RETRY_AFTER_SECONDS,
    SERVICE_RESTART,
    SessionSlots,
    close_quietly,
)
from ustad.api.auth import AuthError, Gatekeeper, bearer
from ustad.api.messages import parse_binary, parse_text
from ustad.api.rate_limits import RateLimits, client_address
from ustad.api.resumption import SUPERSEDED, Restored, Resumption
from ustad.api.wire import message_json, session_json
from ustad.learn.events import InputRejected, SetMode, Utterance
from ustad.learn.machine import LearnMachine
from ustad.learn.session import LearnSession, ServerMessage, SessionState
from ustad.logs import for_log
from ustad.runtime.metrics import ServiceMetrics, SessionEnd
from ustad.settings import LimitSettings
from ustad.vocabulary import ErrorCode, LanguageMode

log = logging.getLogger(__name__)

router = APIRouter()

GOING_AWAY = 1001
"""WebSocket close code (RFC 6455) for a session closed for idling."""
POLICY_VIOLATION = 1008
"""WebSocket close code (RFC 6455) for a refused origin, token or learner id, and for a
client that does not read its replies."""
TRY_AGAIN_LATER = 1013
"""WebSocket close code (RFC 6455) for a client over its rate, or a full process."""


class NotReadingError(Exception):
    """The client stopped taking replies: a send did not finish in time."""


class WebSocketPort:
    """A ``LearnerPort`` over one WebSocket; what is sent after the client left is dropped.

    Each send must finish within ``send_timeout`` seconds, else ``NotReadingError``: a
    client that stops reading would otherwise keep its session and buffers forever."""

    def __init__(
        self, websocket: WebSocket, send_timeout: float, resume_token: str | None = None
    ) -> None:
        self.websocket = websocket
        self.send_timeout = send_timeout
        self.resume_token = resume_token
        """Added to every message (``None``: resuming is off)."""

    @property
    def connected(self) -> bool:
        """The client is still there."""
        return self.websocket.application_state is WebSocketState.CONNECTED

    async def send_message(self, message: ServerMessage) -> None:
        """One JSON text frame."""
        if self.connected:
            await self._bounded(self.websocket.send_json(message_json(message, self.resume_token)))

    async def send_session(self, restored: Restored, mode: LanguageMode) -> None:
        """The ``session`` message answering a request to resume."""
        if self.connected:
            message = session_json(
                resumed=restored.state is not None,
                reason=restored.reason,
                language_mode=mode,
                resume_token=self.resume_token,
            )
            await self._bounded(self.websocket.send_json(message))

    async def send_audio(self, audio: bytes) -> None:
        """One binary frame."""
        if self.connected:
            await self._bounded(self.websocket.send_bytes(audio))

    async def _bounded(self, sending: Coroutine[Any, Any, None]) -> None:
        try:
            await asyncio.wait_for(sending, self.send_timeout)
        except TimeoutError as error:
            raise NotReadingError from error


@dataclass(frozen=True)
class Refused:
    """A connection that may not have a session: the close code, its reason, and the
    reason's kind for the metrics."""

    code: int
    reason: str
    kind: SessionEnd


@router.websocket("/ws/learn")
async def learn(
    websocket: WebSocket,
    learner_id: str | None = None,
    language_mode: str | None = None,
    token: str | None = None,
    resume_token: str | None = None,
) -> None:
    """One learner's session (``?learner_id=`` keeps history across connections; with
    learner tokens, ``Authorization: Bearer`` or ``?token=`` says who the learner is;
    ``?resume_token=`` continues a session whose connection dropped)."""
    state = websocket.app.state
    slots: SessionSlots = state.session_slots
    metrics: ServiceMetrics = state.services.metrics
    if not slots.take():
        metrics.session_ended("full")
        await _deny_busy(websocket)
        return
    try:
        await websocket.accept()
        admitted = await _admit(websocket, state.gatekeeper, state.rate_limits, learner_id, token)
        if isinstance(admitted, Refused):
            # After the handshake, so the client reads the reason (a refused handshake
            # is only a bare HTTP 403 to a browser); nothing has been stored.
            log.warning("socket refused (%s): %s", admitted.code, for_log(admitted.reason))
            metrics.session_ended(admitted.kind)
            await websocket.close(code=admitted.code, reason=admitted.reason[:120])
            return
        mode: LanguageMode = "english" if language_mode == "english" else "urdu"
        resumption = Resumption(getattr(state, "resume_store", None), admitted)
        restored = None
        if resume_token is not None and resumption.store is None:
            # Resuming is off here: a client that asked still gets its answer.
            restored = Restored(None, "unavailable")
        elif resume_token is not None:
            restored = await resumption.restore(resume_token)
            if restored.state is not None and language_mode in ("urdu", "english"):
                restored = Restored(_with_mode(restored.state, mode))
        await _serve(websocket, state, resumption, restored, mode)
    finally:
        slots.give_back()


async def _serve(
    websocket: WebSocket,
    state: Any,
    resumption: Resumption,
    restored: Restored | None,
    mode: LanguageMode,
) -> None:
    """Frames in, session out, until the client leaves, idles, stops reading or is
    superseded by a connection that resumed its session."""
    learner_id = resumption.learner_id
    limits: LimitSettings = state.services.settings.limits
    metrics: ServiceMetrics = state.services.metrics
    rates: RateLimits = state.rate_limits
    slots: SessionSlots = state.session_slots
    port = WebSocketPort(websocket, limits.send_timeout_seconds, resumption.token)
    resumed = restored.state if restored is not None else None
    session = LearnSession(state.services.learn, port, mode, state=resumed)
    if resumed is not None and not await session.reopen():
        # The database cannot continue the session now: a new one, said so.
        restored, resumed = Restored(None, "unavailable"), None
        session = LearnSession(state.services.learn, port, mode)
    if restored is not None:
        metrics.session_resumed(restored.reason or "resumed")
    superseded = False
    # Anonymous sessions are limited one by one (the connection rate bounds how many).
    turn_key = learner_id or f"session:{id(session)}"
    live = slots.register(websocket)
    try:
        if restored is not None:
            await port.send_session(restored, session.machine.mode)
        if resumed is not None:
            await session.resend()
        else:
            await session.open(learner_id)
        await resumption.park(session)
        while True:
            try:
                frame = await asyncio.wait_for(websocket.receive(), limits.idle_seconds)
            except TimeoutError:
                metrics.session_ended("idle")
                await websocket.close(code=GOING_AWAY, reason="idle for too long")
                return
            if frame["type"] == "websocket.disconnect":
                return
            if not await resumption.begin(session):
                superseded = True
                log.info("session %s was resumed by another connection", session.label)
                metrics.session_ended("superseded")
                await close_quietly(websocket, SUPERSEDED, "session resumed elsewhere")
                return
            if frame.get("bytes") is not None:
                events = parse_binary(frame["bytes"], max_bytes=limits.max_message_bytes)
            else:
                text = frame.get("text") or ""
                events = parse_text(text, max_bytes=limits.max_message_bytes)
            live.busy = True
            try:
                for event in events:
                    if isinstance(event, Utterance) and await rates.turn(turn_key) is not None:
                        event = InputRejected(ErrorCode.BUSY, "learner turn rate")
                    await session.handle(event)
            finally:
                live.busy = False
                # Also when a send failed because the client has gone: the state moved on,
                # and a resume must continue from where it is now.
                await resumption.park(session)
            if slots.draining:  # the reply went out; now the restart may close us
                await close_quietly(websocket, SERVICE_RESTART, "server restarting")
                return
    except WebSocketDisconnect:
        pass
    except NotReadingError:
        log.warning("session %s closed: the client stopped reading", session.label)
        metrics.session_ended("not_reading")
        with contextlib.suppress(Exception):
            await websocket.close(code=POLICY_VIOLATION, reason="replies were not read")
    except Exception:
        # A bug must end only this learner's session, never the server.
        log.exception("session %s failed", session.label)
        if port.connected:
            with contextlib.suppress(Exception):
                await websocket.close(code=1011)
    finally:
        slots.unregister(live)
        # A connection that dropped unseen may learn only now that it was replaced; if
        # not, a resume waits until the session's end is stored, then re-opens it.
        ending = not superseded and await resumption.release(session)
        try:
            await session.close(end=ending)
        finally:
            if ending:
                await resumption.released(session)


async def _deny_busy(websocket: WebSocket) -> None:
    """Refuse the handshake: 503 with ``Retry-After``, or close 1013 if the server cannot
    answer a WebSocket handshake with an HTTP response."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = {"error": {"message": "too many sessions; try again shortly", "code": "busy"}}
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        await websocket.send_denial_response(JSONResponse(body, 503, headers=headers))
        return
    await websocket.accept()
    await websocket.close(code=TRY_AGAIN_LATER, reason="too many sessions; try again shortly")


async def _admit(
    websocket: WebSocket,
    gate: Gatekeeper,
    limits: RateLimits,
    learner_id: str | None,
    token: str | None,
) -> Refused | str | None:
    """The learner id the connection belongs to (``None``: a new anonymous learner),
    or why it is refused."""
    if not gate.origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host")):
        return Refused(POLICY_VIOLATION, "origin not allowed", "origin")
    if await limits.client(client_address(websocket.scope)) is not None:
        reason = "too many connections from this address; try later"
        return Refused(TRY_AGAIN_LATER, reason, "rate")
    try:
        return gate.learner_for_socket(learner_id, bearer(websocket.headers) or token)
    except AuthError as error:
        return Refused(POLICY_VIOLATION, str(error), "auth")


def _with_mode(state: SessionState, mode: LanguageMode) -> SessionState:
    """``state`` in the language mode the reconnecting client asked for."""
    learn = LearnMachine(state=state.learn)
    learn.handle(SetMode(mode))
    return replace(state, learn=learn.snapshot)
