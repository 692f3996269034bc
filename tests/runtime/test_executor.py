"""The bounded engine executor keeps the event loop free and counts its work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.runtime.blocking import GUARD
from ustad.runtime.executor import EngineExecutor


async def test_blocking_work_runs_off_the_event_loop_within_the_bound() -> None:
    executor = EngineExecutor(2)
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    inside = threading.Semaphore(0)
    release = threading.Event()
    running = 0
    peak = 0
    lock = threading.Lock()

    def blocking() -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        inside.release()
        assert release.wait(GUARD)
        with lock:
            running -= 1
        return 1

    try:
        calls = [asyncio.create_task(executor.run(blocking)) for _ in range(6)]
        # The loop goes on while two calls block: it waits for them, reads the counters...
        for _ in range(2):
            assert await asyncio.to_thread(inside.acquire, timeout=GUARD)
        stats = executor.stats()
        assert (stats.running, stats.queued, stats.completed) == (2, 4, 0)
        assert not inside.acquire(blocking=False)  # ...and no third call got a thread
        release.set()
        results = await asyncio.gather(*calls)
    finally:
        executor.shutdown()
    assert results == [1] * 6
    assert loop_thread not in threads and len(threads) <= 2
    assert peak == 2  # never more than the bound at once
    stats = executor.stats()
    assert stats.completed == 6 and stats.queued == 0 and stats.failed == 0
    assert stats.wait_seconds_total > 0  # four calls had to queue


async def test_errors_propagate_and_are_counted() -> None:
    executor = EngineExecutor(1)

    def fail() -> None:
        raise ValueError("bad audio")

    with pytest.raises(ValueError, match="bad audio"):
        await executor.run(fail)
    assert executor.stats().failed == 1
    executor.shutdown()


def test_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EngineExecutor(0)


async def test_inline_executor_blocks_the_loop_like_the_naive_baseline() -> None:
    from ustad.runtime.executor import InlineExecutor

    executor = InlineExecutor(1)
    loop_thread = threading.get_ident()
    assert await executor.run(threading.get_ident) == loop_thread
    with pytest.raises(ValueError, match="boom"):
        await executor.run(lambda: (_ for _ in ()).throw(ValueError("boom")))
    stats = executor.stats()
    assert (stats.completed, stats.failed, stats.queued) == (1, 1, 0)
    executor.shutdown()
