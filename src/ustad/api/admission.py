"""Admission control: how many sessions and how much REST engine work at once.

Learners come first. A process holds at most ``USTAD_LIMITS__MAX_SESSIONS``
WebSocket sessions (and, with ``USTAD_REDIS__SESSION_CAP``, the workers sharing a
Redis at most that many together: ``api/shared_slots.py``); past that a handshake is
answered 503 with ``Retry-After`` before anything is allocated. REST routes that
run engines (speech, transcription, assessment) share
``USTAD_RUNTIME__REST_CONCURRENCY`` slots with a short queue of
``USTAD_RUNTIME__REST_QUEUE``; a request that finds both full is answered 503 at
once, so REST can never take every engine thread from the learners' turns, and a
request with a slot starts when no learner's turn is in flight (or after
``USTAD_RUNTIME__REST_YIELD_SECONDS``), so its engine calls fill the gaps between turns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, WebSocket

from ustad.api.errors import ApiError
from ustad.api.shared_slots import SharedSessionCap

SERVICE_RESTART = 1012
"""WebSocket close code (RFC 6455): the server is restarting; reconnect shortly."""
RETRY_AFTER_SECONDS = 5
"""What a refused client is told to wait (``Retry-After``)."""


@dataclass
class LiveSession:
    """An admitted WebSocket and whether it is answering an utterance right now."""

    websocket: WebSocket
    busy: bool = False


class SessionSlots:
    """Open WebSocket sessions, counted against a cap, and drained on shutdown.

    Event-loop only. While ``draining`` no session is admitted; sessions that are idle
    are closed at once with 1012 (service restart) and busy ones close themselves
    after the reply they are working on has been sent."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.draining = False
        self._live: dict[int, LiveSession] = {}
        self._none_live = asyncio.Event()
        self._none_live.set()
        self.shared: SharedSessionCap | None = None
        """The cap across workers, when configured (set by the lifespan)."""

    def take(self) -> bool:
        """Claim a slot; False when the process (or the workers sharing the cap) is
        full or shutting down."""
        if self.draining or self.open >= self.limit:
            return False
        if self.shared is not None and not self.shared.allows(self.open):
            return False
        self.open += 1
        if self.shared is not None:
            self.shared.changed()
        return True

    def give_back(self) -> None:
        """Release a slot taken with ``take``."""
        self.open -= 1
        if self.shared is not None:
            self.shared.changed()

    def register(self, websocket: WebSocket) -> LiveSession:
        """Track an admitted session until ``unregister``."""
        live = LiveSession(websocket)
        self._live[id(live)] = live
        self._none_live.clear()
        return live

    def unregister(self, live: LiveSession) -> None:
        """Stop tracking a session that has ended."""
        self._live.pop(id(live), None)
        if not self._live:
            self._none_live.set()

    async def drain(self) -> None:
        """Stop admitting, let replies in progress go out, close every session with 1012;
        returns when every session has ended (bound it with ``asyncio.timeout``)."""
        self.draining = True
        for live in list(self._live.values()):
            if not live.busy:
                await close_quietly(live.websocket, SERVICE_RESTART, "server restarting")
        await self._none_live.wait()


async def close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    """Close a WebSocket that may already be closing or gone."""
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)


class RestSlots:
    """At most ``concurrent`` REST engine requests at once and ``queued`` waiting; a
    request with a slot also lets the learners' turns in flight finish first (for at
    most ``yield_seconds``), so REST uses the engines between turns."""

    def __init__(self, concurrent: int, queued: int, yield_seconds: float = 10.0) -> None:
        self._running = asyncio.Semaphore(concurrent)
        self._queued = queued
        self._yield_seconds = yield_seconds
        self.waiting = 0
        self.refused = 0

    @asynccontextmanager
    async def slot(self, learners_idle: asyncio.Event | None = None) -> AsyncIterator[None]:
        """Hold a slot for the request; ``ApiError`` 503 when running and queue are full.

        ``learners_idle`` is set while no learner's turn is in flight."""
        if self._running.locked() and self.waiting >= self._queued:
            self.refused += 1
            raise ApiError(
                503,
                "the server is busy; try again shortly",
                "busy",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.waiting += 1
        try:
            await self._running.acquire()
        finally:
            self.waiting -= 1
        try:
            if learners_idle is not None:
                # Past the bound REST goes ahead anyway: learners first, REST never starved.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._yield_seconds):
                        await learners_idle.wait()
            yield
        finally:
            self._running.release()


async def rest_slot(request: Request) -> AsyncIterator[None]:
    """FastAPI dependency: the route runs while holding one of the REST slots."""
    slots: RestSlots = request.app.state.rest_slots
    async with slots.slot(request.app.state.services.processor.idle):
        yield


RestSlot = Depends(rest_slot)
"""For ``dependencies=[...]`` of REST routes that run speech engines."""
RestSlotDep = Annotated[None, RestSlot]
