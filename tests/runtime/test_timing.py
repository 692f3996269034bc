"""A turn's timings: stages, and total split into engine, queue and overhead."""

from __future__ import annotations

import asyncio
import time

import pytest

from ustad.runtime.executor import EngineExecutor, InlineExecutor
from ustad.runtime.timing import TurnTimer


def test_stages_accumulate_and_total_is_last() -> None:
    timer = TurnTimer()
    with timer.stage("tts"):
        pass
    timer.add("tts", 5.0)
    out = timer.as_dict()
    assert out["tts"] >= 5.0
    assert list(out)[-4:] == ["engine", "queue", "overhead", "total"]


def test_overlapping_engine_calls_count_once() -> None:
    timer = TurnTimer()
    t0 = time.perf_counter()
    # Two calls queued together; the second waits 20 ms for a thread, then they overlap.
    timer.engine_call(t0, t0, t0 + 0.05)
    timer.engine_call(t0, t0 + 0.02, t0 + 0.06)
    # A later call that waited 10 ms with nothing of this turn running.
    timer.engine_call(t0 + 0.07, t0 + 0.08, t0 + 0.09)
    time.sleep(0.1)
    out = timer.as_dict()
    assert out["engine"] == pytest.approx(70.0, abs=0.2)  # [0, 60] and [80, 90] ms
    assert out["queue"] == pytest.approx(10.0, abs=0.2)  # [70, 80] ms
    assert 0.0 < out["overhead"] < out["total"] - 80.0
    parts = out["engine"] + out["queue"] + out["overhead"]
    assert parts == pytest.approx(out["total"], abs=0.5)


async def test_the_executor_charges_each_call_to_the_turn_that_made_it() -> None:
    executor = EngineExecutor(workers=1)
    mine, theirs = TurnTimer(), TurnTimer()

    async def turn(timer: TurnTimer, seconds: float) -> None:
        with timer.current():
            await executor.run(lambda: time.sleep(seconds))

    try:
        # One thread: the second turn waits for the first's call to finish.
        await asyncio.gather(turn(mine, 0.2), turn(theirs, 0.1))
    finally:
        executor.shutdown()
    ran, waited = mine.as_dict(), theirs.as_dict()
    assert ran["engine"] == pytest.approx(200.0, abs=30.0)
    assert ran["queue"] < 50.0  # starting the pool's thread
    assert waited["engine"] == pytest.approx(100.0, abs=30.0)
    assert waited["queue"] == pytest.approx(200.0, abs=40.0)


async def test_calls_outside_a_turn_are_not_charged_to_one() -> None:
    executor, timer = InlineExecutor(workers=1), TurnTimer()
    with timer.current():
        await executor.run(lambda: time.sleep(0.05))
    await executor.run(lambda: time.sleep(0.05))
    out = timer.as_dict()
    assert out["engine"] == pytest.approx(50.0, abs=15.0)
    assert out["queue"] == 0.0
