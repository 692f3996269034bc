"""How late the event loop runs: the one number that shows blocking on the loop.

Every session shares one event loop. A blocking call made on it by mistake (an
engine call that skipped the executor, a large JSON encode, a synchronous file
read) freezes every learner at once, yet shows up in no per-turn timing. A task
that sleeps a fixed interval and measures how much later than asked it woke up
sees exactly that: lag near zero while the loop is free, lag as long as the
block when something blocks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import Histogram


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not 0.0 <= p <= 100.0:
        raise ValueError("a percentile lies between 0 and 100")
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class SampleWindow:
    """The most recent ``size`` samples plus a count and maximum over all time.

    Percentiles come from the window only, so they describe recent behaviour and
    memory stays bounded however long the service runs; the count and maximum
    cover everything since start so a rare spike is never forgotten.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a window holds at least one sample")
        self._recent: deque[float] = deque(maxlen=size)
        self.count = 0
        self.max = 0.0

    def add(self, value: float) -> None:
        """Record one sample."""
        self._recent.append(value)
        self.count += 1
        self.max = max(self.max, value)

    def percentile(self, p: float) -> float:
        """Percentile ``p`` (0-100) of the recent samples."""
        return percentile(self._recent, p)

    def __len__(self) -> int:
        """Samples currently in the window."""
        return len(self._recent)


@dataclass(frozen=True)
class LagSnapshot:
    """Event-loop lag in seconds: recent percentiles, maximum and count since start."""

    interval: float
    samples: int
    p50: float
    p99: float
    max: float
    last: float


class EventLoopLagMonitor:
    """Measures event-loop lag with a task that sleeps ``interval`` seconds at a time.

    Each wake-up records ``actual - expected`` wake time. A call that blocks the
    loop for ``d`` seconds while the monitor sleeps shows up as a lag of at least
    ``d - interval``. ``histogram`` (optional) receives every sample too.
    """

    def __init__(
        self,
        interval: float = 0.05,
        *,
        window: int = 2400,
        histogram: Histogram | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the interval must be positive")
        self.interval = interval
        self._window = SampleWindow(window)
        self._histogram = histogram
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """True while the measuring task is alive."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start measuring on the running loop (a second call does nothing)."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._measure(), name="ustad-loop-lag-monitor"
        )

    async def stop(self) -> None:
        """Stop measuring; the samples taken so far stay readable."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def record(self, lag: float) -> None:
        """Add one lag sample in seconds (the task calls this; tests may too)."""
        lag = max(0.0, lag)
        self._last = lag
        self._window.add(lag)
        if self._histogram is not None:
            self._histogram.observe(lag)

    def percentile(self, p: float) -> float:
        """Percentile ``p`` (0-100) of recent lag, in seconds."""
        return self._window.percentile(p)

    def snapshot(self) -> LagSnapshot:
        """Recent p50/p99, all-time maximum and sample count."""
        return LagSnapshot(
            interval=self.interval,
            samples=self._window.count,
            p50=self._window.percentile(50),
            p99=self._window.percentile(99),
            max=self._window.max,
            last=self._last,
        )

    async def _measure(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.record(loop.time() - expected)
