"""One bounded executor for every blocking engine call.

Speech engines (CTranslate2, ONNX Runtime, espeak-ng) block; running them on the
event loop would freeze every other session. They all go through this executor,
whose thread count is the service's compute budget. It also counts how long calls
waited for a thread, so queueing shows up in the stats instead of hiding inside
"slow STT". The disk audio store gets a second, small instance of its own (``name``
"io"), so that its file operations never queue behind the engines.

Calls wait for a thread in order of :class:`Priority`, then of age: a learner's turn
(a call made while ``CURRENT_TURN`` is set) before a REST request, and both before
background work such as phrase pre-generation (marked with :func:`engine_priority`).
A call already running is never interrupted; the order decides only who gets the next
free thread.

Age is the turn's, not the call's (``oldest_turn_first``): a turn is a chain of calls
(decode, transcription, support, speech), and when each link queues behind every call
that arrived before it, all turns in flight advance together and all finish late;
ordered by when their turns began, the oldest turn's next call goes first and turns
finish in about the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

from ustad.runtime.timing import CURRENT_TURN
from ustad.stat_fields import counter, gauge

T = TypeVar("T")


class Priority(IntEnum):
    """Who gets the next free engine thread: the lowest value first."""

    TURN = 0
    """A learner's turn (the default while ``CURRENT_TURN`` is set)."""
    REQUEST = 1
    """Any other foreground request, such as the REST endpoints (the default)."""
    BACKGROUND = 2
    """Work nobody waits for: phrase pre-generation, warm-ups."""


ENGINE_PRIORITY: ContextVar[Priority | None] = ContextVar("ustad_engine_priority", default=None)
"""An explicit priority for the engine calls made in this context (``None``: by turn)."""


@contextmanager
def engine_priority(priority: Priority) -> Iterator[None]:
    """Engine calls made inside the block (in this task) wait as ``priority``."""
    token = ENGINE_PRIORITY.set(priority)
    try:
        yield
    finally:
        ENGINE_PRIORITY.reset(token)


def current_priority() -> Priority:
    """The priority of an engine call made now: explicit, else by whether a turn runs."""
    explicit = ENGINE_PRIORITY.get()
    if explicit is not None:
        return explicit
    return Priority.TURN if CURRENT_TURN.get() is not None else Priority.REQUEST


@dataclass(frozen=True)
class ExecutorStats:
    """A snapshot of the executor's counters (seconds since start for the totals)."""

    workers: int = field(metadata=gauge("Executor threads."))
    running: int = field(metadata=gauge("Calls running on a thread."))
    queued: int = field(metadata=gauge("Calls waiting for a thread."))
    completed: int = field(metadata=counter("Calls that returned."))
    failed: int = field(metadata=counter("Calls that raised."))
    wait_seconds_total: float = field(metadata=counter("Seconds calls waited for a thread."))
    run_seconds_total: float = field(metadata=counter("Seconds calls spent running."))
    overtaking: int = field(
        default=0,
        metadata=counter("Calls given a thread ahead of earlier calls of a lower priority."),
    )


class EngineExecutor:
    """Runs blocking callables on a fixed pool of threads and keeps statistics.

    ``workers`` (>= 1, else ``ValueError``) bounds the calls running at once; more wait
    by :class:`Priority`, then by when their turn began (``oldest_turn_first``; a call
    outside a turn, or every call with it off, by its own arrival), then in order of
    arrival. ``name`` only names the threads
    (``ustad-<name>``). A thread is free again when its call returns, even if the
    caller stopped waiting for it (cancelled), so the bound holds.
    """

    def __init__(
        self, workers: int, *, name: str = "engine", oldest_turn_first: bool = True
    ) -> None:
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self._workers = workers
        self._oldest_turn_first = oldest_turn_first
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ustad-{name}")
        self._running = 0
        self._queued = 0
        self._completed = 0
        self._failed = 0
        self._wait_total = 0.0
        self._run_total = 0.0
        self._free = workers
        self._waiting: list[tuple[int, float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._overtaking = 0

    async def _acquire(self, priority: Priority, age: float) -> None:
        """Wait for a free thread, behind every waiting call of a lower priority value,
        and of the same value with an earlier ``age`` (``perf_counter`` time)."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, age, next(self._arrivals), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # granted, but the caller left: pass the thread on
            raise

    def _release(self) -> None:
        """A thread is free: give it to the first waiting call, else keep it."""
        while self._waiting:
            priority, _, arrival, granted = heapq.heappop(self._waiting)
            if granted.done():  # its caller was cancelled while waiting
                continue
            if any(p > priority and a < arrival for p, _, a, _ in self._waiting):
                self._overtaking += 1
            granted.set_result(None)
            return
        self._free += 1

    def _released_from(self, loop: asyncio.AbstractEventLoop) -> Callable[[Future[T]], None]:
        def done(_: Future[T]) -> None:
            # A closed loop (shut down meanwhile) has nobody left waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._release)

        return done

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a worker thread and return its result (or raise its error).

        The call waits for a thread as :func:`current_priority` says."""
        loop = asyncio.get_running_loop()
        submitted = time.perf_counter()
        started: list[float] = []

        def call() -> T:
            started.append(time.perf_counter())
            return fn()

        turn = CURRENT_TURN.get()
        priority = current_priority()
        age = turn.started if turn is not None and self._oldest_turn_first else submitted
        with self._counted():
            try:
                await self._acquire(priority, age)
                try:
                    running = self._pool.submit(call)
                except BaseException:
                    self._release()
                    raise
                running.add_done_callback(self._released_from(loop))
                return await asyncio.wrap_future(running, loop=loop)
            finally:
                if started:
                    ended = time.perf_counter()
                    self._wait_total += started[0] - submitted
                    self._run_total += ended - started[0]
                    if turn is not None:
                        turn.engine_call(submitted, started[0], ended)

    @contextmanager
    def _counted(self) -> Iterator[None]:
        """Count one call as queued until it ends, then as completed or failed.

        Counters are only touched on the event loop thread, so no lock is needed.
        """
        self._queued += 1
        try:
            yield
        except BaseException:
            self._failed += 1
            raise
        else:
            self._completed += 1
        finally:
            self._queued -= 1

    @property
    def queued(self) -> int:
        """Calls submitted and not yet finished (waiting or running)."""
        return self._queued

    def stats(self) -> ExecutorStats:
        """Counters since start."""
        return ExecutorStats(
            workers=self._workers,
            running=min(self._queued, self._workers),
            queued=max(0, self._queued - self._workers),
            completed=self._completed,
            failed=self._failed,
            wait_seconds_total=self._wait_total,
            run_seconds_total=self._run_total,
            overtaking=self._overtaking,
        )

    def shutdown(self) -> None:
        """Stop accepting work and wait for running calls."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class InlineExecutor(EngineExecutor):
    """The naive baseline: runs each blocking call right on the event loop.

    Only for ``runtime.mode = "baseline"``, which reproduces the design ustad is
    measured against: while one learner's audio is transcribed, every other
    session (and the event loop itself) waits.
    """

    async def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` in place, blocking the loop, and count it."""
        started = time.perf_counter()
        turn = CURRENT_TURN.get()
        with self._counted():
            try:
                return fn()
            finally:
                ended = time.perf_counter()
                self._run_total += ended - started
                if turn is not None:
                    turn.engine_call(started, started, ended)
