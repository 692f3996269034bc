"""The ``/ws/learn`` route: WebSocket frames in, a ``LearnSession``'s messages out.

This adapter only moves frames. Each one is parsed into events
(``api/messages.py``) for the learner's ``LearnSession``, which does all the
work and answers through ``WebSocketPort`` (JSON from ``api/wire.py``, then the
audio frame).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ustad.api.auth import AuthError, Gatekeeper, bearer
from ustad.api.messages import parse_binary, parse_text
from ustad.api.rate_limits import RateLimits, client_address
from ustad.api.wire import message_json
from ustad.learn.events import InputRejected, Utterance
from ustad.learn.session import LearnContext, LearnSession, ServerMessage
from ustad.logs import for_log
from ustad.vocabulary import ErrorCode, LanguageMode

log = logging.getLogger(__name__)

router = APIRouter()

POLICY_VIOLATION = 1008
"""WebSocket close code (RFC 6455) for a refused origin, token or learner id."""
TRY_AGAIN_LATER = 1013
"""WebSocket close code (RFC 6455) for a client over its rate."""


class WebSocketPort:
    """A ``LearnerPort`` over one WebSocket; what is sent after the client left is dropped."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    @property
    def connected(self) -> bool:
        """The client is still there."""
        return self.websocket.application_state is WebSocketState.CONNECTED

    async def send_message(self, message: ServerMessage) -> None:
        """One JSON text frame."""
        if self.connected:
            await self.websocket.send_json(message_json(message))

    async def send_audio(self, audio: bytes) -> None:
        """One binary frame."""
        if self.connected:
            await self.websocket.send_bytes(audio)


@router.websocket("/ws/learn")
async def learn(
    websocket: WebSocket,
    learner_id: str | None = None,
    language_mode: str | None = None,
    token: str | None = None,
) -> None:
    """One learner's session (``?learner_id=`` keeps history across connections; with
    learner tokens, ``Authorization: Bearer`` or ``?token=`` says who the learner is)."""
    state = websocket.app.state
    context: LearnContext = state.services.learn
    max_bytes: int = state.services.settings.limits.max_message_bytes
    await websocket.accept()
    admitted = await _admit(websocket, state.gatekeeper, state.rate_limits, learner_id, token)
    if isinstance(admitted, Refused):
        # After the handshake, so the client reads the reason (a refused handshake
        # is only a bare HTTP 403 to a browser); nothing has been stored.
        log.warning("socket refused (%s): %s", admitted.code, for_log(admitted.reason))
        await websocket.close(code=admitted.code, reason=admitted.reason[:120])
        return
    mode: LanguageMode = "english" if language_mode == "english" else "urdu"
    port = WebSocketPort(websocket)
    session = LearnSession(context, port, mode)
    limits: RateLimits = state.rate_limits
    turn_key = admitted or f"client:{client_address(websocket.scope)}"
    try:
        await session.open(admitted)
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            if frame.get("bytes") is not None:
                events = parse_binary(frame["bytes"], max_bytes=max_bytes)
            else:
                events = parse_text(frame.get("text") or "", max_bytes=max_bytes)
            for event in events:
                if isinstance(event, Utterance) and await limits.turn(turn_key) is not None:
                    event = InputRejected(ErrorCode.BUSY, "learner turn rate")
                await session.handle(event)
    except WebSocketDisconnect:
        pass
    except Exception:
        # A bug must end only this learner's session, never the server.
        log.exception("session %s failed", session.session_id)
        if port.connected:
            with contextlib.suppress(Exception):
                await websocket.close(code=1011)
    finally:
        await session.close()


@dataclass(frozen=True)
class Refused:
    """A connection that may not have a session: the close code and its reason."""

    code: int
    reason: str


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
        return Refused(POLICY_VIOLATION, "origin not allowed")
    if await limits.client(client_address(websocket.scope)) is not None:
        return Refused(TRY_AGAIN_LATER, "too many connections from this address; try later")
    try:
        return gate.learner_for_socket(learner_id, bearer(websocket.headers) or token)
    except AuthError as error:
        return Refused(POLICY_VIOLATION, str(error))
