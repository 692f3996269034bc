"""The bounded engine executor keeps the event loop free and counts its work."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from tests.runtime.blocking import GUARD
from ustad.runtime.executor import EngineExecutor, Priority, engine_priority
from ustad.runtime.timing import TurnTimer


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


async def test_turns_get_the_next_thread_before_requests_and_background_work() -> None:
    executor = EngineExecutor(1)
    release = threading.Event()
    inside = threading.Semaphore(0)
    order: list[str] = []

    def hold() -> None:
        inside.release()
        assert release.wait(GUARD)

    def job(name: str) -> Callable[[], None]:
        return lambda: order.append(name)

    async def call(name: str, priority: Priority | None) -> None:
        if priority is None:
            await executor.run(job(name))
            return
        with engine_priority(priority):
            await executor.run(job(name))

    try:
        held = asyncio.create_task(executor.run(hold))
        assert await asyncio.to_thread(inside.acquire, timeout=GUARD)
        # Queued in the worst order: background first, the turns last.
        arrivals = [
            ("pregenerate-1", Priority.BACKGROUND),
            ("rest-1", None),  # no turn in this context: a request
            ("pregenerate-2", Priority.BACKGROUND),
            ("turn-1", Priority.TURN),
            ("rest-2", Priority.REQUEST),
            ("turn-2", Priority.TURN),
        ]
        calls = []
        for name, priority in arrivals:
            calls.append(asyncio.create_task(call(name, priority)))
            await asyncio.sleep(0)  # each reaches the queue before the next is made
        assert executor.stats().queued == len(arrivals)
        release.set()
        await asyncio.gather(held, *calls)
    finally:
        executor.shutdown()
    # By priority, then in order of arrival within one priority.
    assert order == ["turn-1", "turn-2", "rest-1", "rest-2", "pregenerate-1", "pregenerate-2"]
    assert executor.stats().overtaking >= 4


async def test_a_caller_that_leaves_never_frees_a_thread_still_in_use() -> None:
    executor = EngineExecutor(1)
    release = threading.Event()
    inside = threading.Semaphore(0)
    running = 0
    peak = 0
    lock = threading.Lock()

    def counted() -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        inside.release()
        assert release.wait(GUARD)
        with lock:
            running -= 1
        return 1

    try:
        first = asyncio.create_task(executor.run(counted))
        assert await asyncio.to_thread(inside.acquire, timeout=GUARD)
        waiting = asyncio.create_task(executor.run(counted))
        await asyncio.sleep(0)
        # The running call's caller leaves, and so does a waiting one: the thread is still
        # busy, so the next call waits for it instead of running beside it.
        first.cancel()
        waiting.cancel()
        last = asyncio.create_task(executor.run(counted))
        await asyncio.sleep(0)
        assert not inside.acquire(blocking=False)
        release.set()
        assert await asyncio.wait_for(last, GUARD) == 1
    finally:
        executor.shutdown()
    assert peak == 1
    for task in (first, waiting):
        assert task.cancelled()


@pytest.mark.parametrize("oldest_turn_first", [True, False])
async def test_the_oldest_turn_s_call_goes_first(oldest_turn_first: bool) -> None:
    executor = EngineExecutor(1, oldest_turn_first=oldest_turn_first)
    release = threading.Event()
    inside = threading.Semaphore(0)
    order: list[str] = []
    older, newer = TurnTimer(), TurnTimer()  # older began first

    def hold() -> None:
        inside.release()
        assert release.wait(GUARD)

    async def call(turn: TurnTimer, name: str) -> None:
        with turn.current():
            await executor.run(lambda: order.append(name))

    try:
        held = asyncio.create_task(executor.run(hold))
        assert await asyncio.to_thread(inside.acquire, timeout=GUARD)
        # The newer turn's call reaches the queue first (its turn was quicker so far).
        calls = [asyncio.create_task(call(newer, "newer turn"))]
        await asyncio.sleep(0)
        calls.append(asyncio.create_task(call(older, "older turn")))
        await asyncio.sleep(0)
        assert executor.stats().queued == 2
        release.set()
        await asyncio.gather(held, *calls)
    finally:
        executor.shutdown()
    if oldest_turn_first:
        assert order == ["older turn", "newer turn"]
    else:
        assert order == ["newer turn", "older turn"]  # by the calls' own arrival
