"""The event-loop lag monitor sees blocking on the loop and little else."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import CollectorRegistry, Histogram

from ustad.runtime.loop_monitor import EventLoopLagMonitor, SampleWindow, percentile


async def wait_for_samples(monitor: EventLoopLagMonitor, count: int) -> None:
    """Yield to the loop until the monitor has taken ``count`` samples (or give up)."""
    deadline = time.monotonic() + 30
    while monitor.snapshot().samples < count:
        assert time.monotonic() < deadline, "the monitor took no samples"
        await asyncio.sleep(monitor.interval)


async def test_a_blocking_call_on_the_loop_shows_up_as_lag() -> None:
    monitor = EventLoopLagMonitor(interval=0.01)
    await monitor.start()
    try:
        await wait_for_samples(monitor, 3)
        before = monitor.snapshot().samples
        time.sleep(0.3)  # noqa: ASYNC251 - blocking the event loop is the point
        await wait_for_samples(monitor, before + 2)
    finally:
        await monitor.stop()
    # The block began while the monitor slept, so it woke at least 0.3 - interval late.
    assert monitor.snapshot().max >= 0.3 - monitor.interval
    assert monitor.percentile(100) == monitor.snapshot().max


async def test_idle_loop_lag_is_small() -> None:
    monitor = EventLoopLagMonitor(interval=0.005)
    await monitor.start()
    try:
        await wait_for_samples(monitor, 20)
    finally:
        await monitor.stop()
    snap = monitor.snapshot()
    # Generous: the machine is shared, but an idle loop is nowhere near a 300 ms block.
    assert snap.p50 < 0.1
    assert snap.samples >= 20


async def test_stop_ends_the_task_and_keeps_samples_and_start_is_idempotent() -> None:
    monitor = EventLoopLagMonitor(interval=0.005)
    await monitor.start()
    await monitor.start()
    assert monitor.running
    await wait_for_samples(monitor, 2)
    await monitor.stop()
    assert not monitor.running
    taken = monitor.snapshot().samples
    await asyncio.sleep(0.05)
    assert monitor.snapshot().samples == taken
    await monitor.stop()  # a second stop is harmless


def test_samples_go_into_the_histogram_and_the_window_stays_bounded() -> None:
    registry = CollectorRegistry()
    histogram = Histogram("lag_seconds", "lag", buckets=(0.01, 0.1, 1.0), registry=registry)
    monitor = EventLoopLagMonitor(window=3, histogram=histogram)
    for lag in (0.5, 0.001, 0.002, 0.003, -0.001):
        monitor.record(lag)
    snap = monitor.snapshot()
    assert snap.samples == 5
    assert snap.max == 0.5  # all-time, although 0.5 has left the window
    assert monitor.percentile(100) == 0.003  # window: 0.002, 0.003, 0.0 (negative clamps)
    assert snap.last == 0.0
    assert registry.get_sample_value("lag_seconds_count") == 5
    assert registry.get_sample_value("lag_seconds_bucket", {"le": "0.01"}) == 4


def test_percentile_interpolates() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0], 0) == 1.0
    assert percentile([1.0, 2.0, 3.0], 100) == 3.0
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)
    window = SampleWindow(2)
    for value in (10.0, 1.0, 2.0):
        window.add(value)
    assert len(window) == 2
    assert window.percentile(50) == 1.5
    assert (window.count, window.max) == (3, 10.0)
