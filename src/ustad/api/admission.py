"""Admission control: how many sessions and how much REST engine work at once.

Learners come first. A process holds at most ``USTAD_LIMITS__MAX_SESSIONS``
WebSocket sessions; past that a handshake is answered 503 with ``Retry-After``
before anything is allocated. REST routes that run engines (speech, transcription,
assessment) share ``USTAD_RUNTIME__REST_CONCURRENCY`` slots with a short queue of
``USTAD_RUNTIME__REST_QUEUE``; a request that finds both full is answered 503 at
once, so REST can never take every engine thread from the learners' turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request

from ustad.api.errors import ApiError

RETRY_AFTER_SECONDS = 5
"""What a refused client is told to wait (``Retry-After``)."""


class SessionSlots:
    """Counts open WebSocket sessions against a cap (event-loop only)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def take(self) -> bool:
        """Claim a slot; False when the process is full."""
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def give_back(self) -> None:
        """Release a slot taken with ``take``."""
        self.open -= 1


class RestSlots:
    """At most ``concurrent`` REST engine requests at once and ``queued`` waiting."""

    def __init__(self, concurrent: int, queued: int) -> None:
        self._running = asyncio.Semaphore(concurrent)
        self._queued = queued
        self.waiting = 0
        self.refused = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the request; ``ApiError`` 503 when running and queue are full."""
        if self._running.locked() and self.waiting >= self._queued:
            self.refused += 1
            raise ApiError(
                503,
                "the tutor is busy with learners; try again shortly",
                "busy",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.waiting += 1
        try:
            await self._running.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._running.release()


async def rest_slot(request: Request) -> AsyncIterator[None]:
    """FastAPI dependency: the route runs while holding one of the REST slots."""
    slots: RestSlots = request.app.state.rest_slots
    async with slots.slot():
        yield


RestSlot = Depends(rest_slot)
"""For ``dependencies=[...]`` of REST routes that run speech engines."""
RestSlotDep = Annotated[None, RestSlot]
