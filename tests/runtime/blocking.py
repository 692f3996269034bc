"""An engine executor held busy on purpose, to show what does not wait for it."""

from __future__ import annotations

import asyncio
import threading

from ustad.runtime.executor import EngineExecutor

GUARD = 60.0
"""Seconds after which a broken test fails instead of hanging; nothing is measured by it."""


class BlockedEngine:
    """Holds every thread of ``executor`` (and queues one more call) until the block ends.

    On entry all ``workers`` threads are inside a held call (counted, not timed); on
    exit they are released and every held call must have returned normally.
    """

    def __init__(self, executor: EngineExecutor) -> None:
        self.executor = executor
        self.workers = executor.stats().workers
        self.release = threading.Event()
        self._inside = threading.Semaphore(0)
        self._calls: list[asyncio.Task[bool]] = []
        self._completed = 0

    async def __aenter__(self) -> BlockedEngine:
        def hold() -> bool:
            self._inside.release()
            return self.release.wait(GUARD)

        self._calls = [
            asyncio.create_task(self.executor.run(hold)) for _ in range(self.workers + 1)
        ]
        for _ in range(self.workers):
            assert await asyncio.to_thread(self._inside.acquire, timeout=GUARD)
        self._completed = self.executor.stats().completed
        return self

    async def __aexit__(self, *_: object) -> None:
        self.release.set()
        assert await asyncio.gather(*self._calls) == [True] * (self.workers + 1)

    def assert_still_blocked(self) -> None:
        """Nothing on the engine finished or was let go: all threads held, one call queued."""
        stats = self.executor.stats()
        assert not self.release.is_set()
        assert (stats.running, stats.queued) == (self.workers, 1)
        assert stats.completed == self._completed


async def drain(executor: EngineExecutor) -> None:
    """Return once every call started on ``executor`` before this one has ended.

    One call per thread, each waiting at a barrier for all the others: they can only
    pass it together, i.e. when no earlier call holds any thread (the queue is FIFO).
    """
    workers = executor.stats().workers
    barrier = threading.Barrier(workers, timeout=GUARD)
    await asyncio.gather(*(executor.run(barrier.wait) for _ in range(workers)))
