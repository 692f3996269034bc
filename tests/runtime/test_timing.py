"""A turn's timings: stages, and total split into engine, queue, shared and overhead."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.runtime.blocking import GUARD
from ustad.caching import MemoryCache
from ustad.runtime.executor import EngineExecutor, InlineExecutor
from ustad.runtime.timing import TurnTimer, joining


def test_stages_accumulate_and_total_is_last() -> None:
    timer = TurnTimer()
    with timer.stage("tts"):
        pass
    timer.add("tts", 5.0)
    out = timer.as_dict()
    assert out["tts"] >= 5.0
    assert list(out)[-5:] == ["engine", "queue", "shared", "overhead", "total"]


def test_overlapping_engine_calls_count_once() -> None:
    timer = TurnTimer()
    t0 = time.perf_counter()
    # Two calls queued together; the second waits 20 ms for a thread, then they overlap.
    timer.engine_call(t0, t0, t0 + 0.05)
    timer.engine_call(t0, t0 + 0.02, t0 + 0.06)
    # A later call that waited 10 ms with nothing of this turn running.
    timer.engine_call(t0 + 0.07, t0 + 0.08, t0 + 0.09)
    time.sleep(0.1)  # so that total covers the calls: at least 100 ms, however long
    out = timer.as_dict()
    # Exact but for rounding to 0.1 ms: the intervals are given, not measured.
    assert out["engine"] == pytest.approx(70.0, abs=0.2)  # [0, 60] and [80, 90] ms
    assert out["queue"] == pytest.approx(10.0, abs=0.2)  # [70, 80] ms
    assert out["total"] >= 100.0 - 0.1
    assert out["overhead"] == pytest.approx(out["total"] - 80.0, abs=0.2)
    assert out["shared"] == 0.0
    parts = out["engine"] + out["queue"] + out["overhead"]
    assert parts == pytest.approx(out["total"], abs=0.5)


def test_a_shared_wait_counts_where_no_own_call_covers_it() -> None:
    timer = TurnTimer()
    t0 = time.perf_counter()
    timer.engine_call(t0, t0 + 0.01, t0 + 0.03)  # queued 10 ms, ran 20 ms
    timer.shared_wait(t0 + 0.02, t0 + 0.07)  # overlaps the call's last 10 ms
    time.sleep(0.1)
    out = timer.as_dict()
    assert out["engine"] == pytest.approx(20.0, abs=0.2)
    assert out["queue"] == pytest.approx(10.0, abs=0.2)
    assert out["shared"] == pytest.approx(40.0, abs=0.2)  # [30, 70] ms
    assert out["overhead"] == pytest.approx(out["total"] - 70.0, abs=0.2)
    parts = out["engine"] + out["queue"] + out["shared"] + out["overhead"]
    assert parts == pytest.approx(out["total"], abs=0.5)


async def test_joining_charges_the_wait_to_the_turn_that_did_not_compute() -> None:
    cache: MemoryCache[str, str] = MemoryCache("test", max_entries=4)
    computing, joined = TurnTimer(), TurnTimer()
    started, finish = asyncio.Event(), asyncio.Event()

    async def compute() -> str:
        started.set()
        await finish.wait()
        return "value"

    async def ask(timer: TurnTimer) -> str:
        with timer.current():
            return await joining(lambda c: cache.get_or_compute("key", c), compute)

    first = asyncio.create_task(ask(computing))
    await started.wait()
    second = asyncio.create_task(ask(joined))
    await asyncio.sleep(0.05)
    finish.set()
    assert await first == await second == "value"
    assert computing.as_dict()["shared"] == 0.0  # it computed: nothing shared
    assert joined.as_dict()["shared"] >= 50.0 - 1.0  # awaited the other's computation
    assert await joining(lambda c: cache.get_or_compute("key", c), compute) == "value"


async def test_the_executor_charges_each_call_to_the_turn_that_made_it() -> None:
    executor = EngineExecutor(workers=1)
    mine, theirs = TurnTimer(), TurnTimer()
    inside = threading.Semaphore(0)
    release = {"mine": threading.Event(), "theirs": threading.Event()}

    def hold(name: str) -> None:
        inside.release()
        assert release[name].wait(GUARD)

    async def turn(timer: TurnTimer, name: str) -> None:
        with timer.current():
            await executor.run(lambda: hold(name))

    async def entered() -> None:
        assert await asyncio.to_thread(inside.acquire, timeout=GUARD)

    try:
        first = asyncio.create_task(turn(mine, "mine"))
        await entered()  # my call holds the only thread
        second = asyncio.create_task(turn(theirs, "theirs"))
        await asyncio.sleep(0)  # one step: their turn runs up to its engine call
        assert executor.queued == 2  # submitted, and it has to wait for mine
        await asyncio.sleep(0.05)
        release["mine"].set()
        await first
        mine_alone = mine.as_dict()["engine"]
        await entered()  # their call has the thread now
        await asyncio.sleep(0.02)
        release["theirs"].set()
        await second
    finally:
        executor.shutdown()
    ran, waited = mine.as_dict(), theirs.as_dict()
    # Their call went to their turn only: mine's engine time did not move when it ran.
    assert ran["engine"] == mine_alone
    # One-sided: each held its thread at least as long as the test kept it; they waited
    # at least as long as mine ran after theirs was queued (1 ms: clock and rounding).
    assert ran["engine"] >= 50.0 - 1.0
    assert waited["engine"] >= 20.0 - 1.0
    assert waited["queue"] >= 50.0 - 1.0
    assert ran["queue"] >= 0.0


async def test_calls_outside_a_turn_are_not_charged_to_one() -> None:
    executor, timer = InlineExecutor(workers=1), TurnTimer()
    with timer.current():
        await executor.run(lambda: time.sleep(0.05))
    charged = timer.as_dict()["engine"]
    await executor.run(lambda: time.sleep(0.05))
    out = timer.as_dict()
    assert out["engine"] == charged  # the second call was nobody's
    assert charged >= 50.0 - 0.1  # at least the sleep (rounding to 0.1 ms)
    assert out["queue"] == 0.0  # inline: no thread to wait for


async def test_joining_charges_the_wait_when_the_computation_fails_or_is_taken_over() -> None:
    cache: MemoryCache[str, str] = MemoryCache("test", max_entries=4)
    started, finish = asyncio.Event(), asyncio.Event()

    async def fails() -> str:
        started.set()
        await finish.wait()
        raise RuntimeError("engine failed")

    async def ask(timer: TurnTimer, compute: Callable[[], Awaitable[str]]) -> str:
        with timer.current():
            return await joining(lambda c: cache.get_or_compute("key", c), compute)

    failing, joined = TurnTimer(), TurnTimer()
    first = asyncio.create_task(ask(failing, fails))
    await started.wait()
    second = asyncio.create_task(ask(joined, fails))
    await asyncio.sleep(0.05)
    finish.set()
    for task in (first, second):
        with pytest.raises(RuntimeError):
            await task
    assert joined.as_dict()["shared"] >= 50.0 - 1.0  # awaited the failed computation

    # The computing caller is cancelled: the waiting one computes, after its wait.
    started.clear()
    hold = asyncio.Event()

    async def slow() -> str:
        started.set()
        await hold.wait()
        return "value"

    leaving, taking_over = TurnTimer(), TurnTimer()
    first = asyncio.create_task(ask(leaving, slow))
    await started.wait()
    second = asyncio.create_task(ask(taking_over, slow))
    await asyncio.sleep(0.05)
    first.cancel()
    await asyncio.sleep(0)
    hold.set()
    assert await second == "value"
    assert taking_over.as_dict()["shared"] >= 50.0 - 1.0
