"""The ``/ws/learn`` route: WebSocket frames in, a ``LearnSession``'s messages out.

This adapter only moves frames. Each one is parsed into events
(``api/messages.py``) for the learner's ``LearnSession``, which does all the
work and answers through ``WebSocketPort`` (JSON from ``api/wire.py``, then the
audio frame).
"""

from __future__ import annotations

import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ustad.api.messages import parse_binary, parse_text
from ustad.api.wire import message_json
from ustad.learn.session import LearnContext, LearnSession, ServerMessage
from ustad.vocabulary import LanguageMode

log = logging.getLogger(__name__)

router = APIRouter()


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
    websocket: WebSocket, learner_id: str | None = None, language_mode: str | None = None
) -> None:
    """One learner's session (``?learner_id=`` keeps history across connections)."""
    context: LearnContext = websocket.app.state.services.learn
    max_bytes: int = websocket.app.state.services.settings.limits.max_message_bytes
    await websocket.accept()
    mode: LanguageMode = "english" if language_mode == "english" else "urdu"
    port = WebSocketPort(websocket)
    session = LearnSession(context, port, mode)
    try:
        await session.open(learner_id)
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            if frame.get("bytes") is not None:
                events = parse_binary(frame["bytes"], max_bytes=max_bytes)
            else:
                events = parse_text(frame.get("text") or "", max_bytes=max_bytes)
            for event in events:
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
