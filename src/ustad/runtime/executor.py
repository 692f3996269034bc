"""One bounded executor for every blocking engine call.

Speech engines (CTranslate2, ONNX Runtime, espeak-ng) block; running them on the
event loop would freeze every other session. They all go through this executor,
whose thread count is the service's compute budget. It also counts how long calls
waited for a thread, so queueing shows up in the stats instead of hiding inside
"slow STT". The disk audio store gets a second, small instance of its own (``name``
"io"), so that its file operations never queue behind the engines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from ustad.runtime.timing import CURRENT_TURN
from ustad.stat_fields import counter, gauge

T = TypeVar("T")


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


class EngineExecutor:
    """Runs blocking callables on a fixed pool of threads and keeps statistics.

    ``workers`` (>= 1, else ``ValueError``) bounds the calls running at once; more wait
    in order. ``name`` only names the threads (``ustad-<name>``).
    """

    def __init__(self, workers: int, *, name: str = "engine") -> None:
        if workers < 1:
            raise ValueError("an executor needs at least one worker")
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ustad-{name}")
        self._running = 0
        self._queued = 0
        self._completed = 0
        self._failed = 0
        self._wait_total = 0.0
        self._run_total = 0.0

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a worker thread and return its result (or raise its error)."""
        loop = asyncio.get_running_loop()
        submitted = time.perf_counter()
        started: list[float] = []

        def call() -> T:
            started.append(time.perf_counter())
            return fn()

        turn = CURRENT_TURN.get()
        with self._counted():
            try:
                return await loop.run_in_executor(self._pool, call)
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
