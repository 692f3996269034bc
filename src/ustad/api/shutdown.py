"""A graceful stop: on SIGTERM the learners' replies in progress go out first.

uvicorn answers SIGTERM by failing every WebSocket with 1012 at once, which would
drop a reply whose turn is stored or being stored. ustad puts its own handler in front of
uvicorn's (from the app's lifespan, so it works in every worker process): stop
admitting sessions, let each turn in progress finish and send its reply, close
every session with 1012, and only then hand the signal to uvicorn. A second
SIGTERM, or ``USTAD_SERVER__DRAIN_SECONDS`` running out, stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from ustad.api.admission import SessionSlots

log = logging.getLogger(__name__)


async def drain(slots: SessionSlots, seconds: float) -> None:
    """Drain the sessions, waiting at most ``seconds`` for replies in progress."""
    log.info("draining %d session(s) before stopping", slots.open)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await slots.drain()


def drain_on_sigterm(slots: SessionSlots, seconds: float) -> Callable[[], None]:
    """Install the SIGTERM handler; returns a function that puts the previous one back.

    Does nothing outside the main thread (signal handlers can only be set there; a
    server run in a test thread is drained by calling ``drain`` itself)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    tasks: set[asyncio.Task[None]] = set()

    def hand_on(sig: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, previous)
        if callable(previous):
            previous(sig, frame)
        else:
            signal.raise_signal(sig)

    async def drain_then_stop(sig: int, frame: FrameType | None) -> None:
        await drain(slots, seconds)
        hand_on(sig, frame)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if slots.draining:  # a second SIGTERM: stop now
            hand_on(sig, frame)
            return
        task = loop.create_task(drain_then_stop(sig, frame))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)

    return restore
