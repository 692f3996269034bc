"""Workloads, client loops and summaries for ``peers.py`` (pure logic, no servers).

Kept apart from the script so the parts a wrong number could come from (who takes
which request, percentiles, medians over repeats, the noise figure) are tested on
their own in ``tests/benchmarks/``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ustad.bench.report import percentile
from ustad.bench.workload import ZipfSampler

Item = TypeVar("Item")
Result = TypeVar("Result")


# ------------------------------------------------------------------ workloads


def zipf_requests(sentences: Sequence[str], count: int, exponent: float, seed: int) -> list[str]:
    """``count`` sentences drawn with bounded Zipf popularity over a seeded ranking.

    The ranking is a seeded shuffle of ``sentences``, so the most popular sentence is
    not simply the first line of the file; rank *k* is drawn with weight 1/*k*^exponent.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if len(set(sentences)) != len(sentences):
        raise ValueError("sentences must be distinct")
    rng = random.Random(seed)
    ranking = list(sentences)
    rng.shuffle(ranking)
    sampler = ZipfSampler(len(ranking), exponent)
    return [ranking[sampler.sample(rng)] for _ in range(count)]


def distinct_requests(sentences: Sequence[str], count: int, seed: int) -> list[str]:
    """``count`` different sentences in a seeded order (no request repeats another)."""
    if not 1 <= count <= len(set(sentences)):
        raise ValueError(f"count must be within 1..{len(set(sentences))}, got {count}")
    return random.Random(seed).sample(sorted(set(sentences)), count)


def sample_items(items: Sequence[Item], count: int, seed: int) -> list[Item]:
    """``count`` of ``items`` without replacement, seeded, in the order drawn."""
    if not 1 <= count <= len(items):
        raise ValueError(f"count must be within 1..{len(items)}, got {count}")
    return random.Random(seed).sample(list(items), count)


def side_order(sides: Sequence[str], repeat: int) -> list[str]:
    """The order sides run in for repeat ``repeat``: rotated each time, so that over
    the repeats every side runs first as often as the others and a slow stretch of a
    shared machine does not always land on the same side."""
    if not sides:
        return []
    shift = repeat % len(sides)
    return [*sides[shift:], *sides[:shift]]


# ------------------------------------------------------------------ client loop


@dataclass(frozen=True)
class Sample(Generic[Result]):
    """One request as a client saw it."""

    index: int
    """Position of the item in the workload."""
    client: int
    seconds: float
    """From sending the request to having the whole answer."""
    result: Result | None
    error: str | None = None


async def run_clients(
    items: Sequence[Item],
    clients: int,
    call: Callable[[Item], Awaitable[Result]],
    *,
    request_timeout: float,
) -> tuple[list[Sample[Result]], float]:
    """Send every item through ``call`` from ``clients`` concurrent clients.

    The clients share one queue: each takes the next item as soon as its previous
    request is answered, so at most ``clients`` requests are in flight. A request
    that fails or takes over ``request_timeout`` seconds is recorded with its error,
    and the run goes on.
    Returns the samples in workload order and the wall time of the whole run.
    """
    if clients < 1:
        raise ValueError("clients must be at least 1")
    queue: asyncio.Queue[tuple[int, Item]] = asyncio.Queue()
    for index, item in enumerate(items):
        queue.put_nowait((index, item))
    samples: list[Sample[Result]] = []

    async def client(number: int) -> None:
        while True:
            try:
                index, item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            try:
                result = await asyncio.wait_for(call(item), request_timeout)
            except Exception as error:  # recorded: one failed request must not end the run
                elapsed = time.perf_counter() - started
                message = f"{type(error).__name__}: {error}"
                samples.append(Sample(index, number, elapsed, None, message))
                continue
            samples.append(Sample(index, number, time.perf_counter() - started, result))

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(min(clients, len(items)) or 1)))
    wall = time.perf_counter() - started
    return sorted(samples, key=lambda s: s.index), wall


# ------------------------------------------------------------------ summaries


def latency_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p95 and mean of latencies given in seconds, in milliseconds."""
    if not seconds:
        return {"count": 0, "p50": None, "p95": None, "mean": None}
    ms = [1000.0 * s for s in seconds]
    return {
        "count": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "mean": round(statistics.fmean(ms), 1),
    }


def run_summary(samples: Sequence[Sample[Any]], wall: float) -> dict[str, Any]:
    """Latency of the answered requests, throughput (answered per second) and errors."""
    answered = [s.seconds for s in samples if s.error is None]
    errors = [s.error for s in samples if s.error is not None]
    return {
        "requests": len(samples),
        "answered": len(answered),
        "errors": len(errors),
        "first_errors": errors[:3],
        "wall_seconds": round(wall, 3),
        "throughput_per_second": round(len(answered) / wall, 3) if wall > 0 else None,
        "latency_ms": latency_ms(answered),
        # Each request's latency in workload order (None: failed), to find the slow items.
        "request_ms": [None if s.error else round(1000.0 * s.seconds, 1) for s in samples],
    }


def combine_repeats(
    runs: Sequence[Mapping[str, Any]], latencies: Sequence[float]
) -> dict[str, Any]:
    """One level's figure over its repeats.

    Throughput is the median of the repeats' throughputs (robust to one noisy run);
    latency percentiles pool every answered request of every repeat (``latencies``,
    in seconds), which gives p95 more samples than any single run has.
    """
    if not runs:
        raise ValueError("no runs to combine")
    throughputs = [r["throughput_per_second"] for r in runs if r["throughput_per_second"]]
    return {
        "repeats": len(runs),
        "throughput_per_second": round(statistics.median(throughputs), 3) if throughputs else None,
        "throughput_runs": throughputs,
        "latency_ms": latency_ms(latencies),
        "errors": sum(int(r["errors"]) for r in runs),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded to 2 places, ``None`` if either is missing or 0."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


@dataclass(frozen=True)
class CpuWindow:
    """CPU seconds seen over one run, by whom."""

    wall: float
    machine_busy: float
    """Every core's non-idle time (``/proc/stat``)."""
    bench: float
    """This benchmark process (the clients)."""
    servers: Mapping[str, float]
    """Each server process tree (the side under test and the idle ones)."""

    def summary(self, side: str, requests: int) -> dict[str, Any]:
        """The side's CPU per request and the machine's other load (100 = one core)."""
        own = self.bench + sum(self.servers.values())
        other = max(0.0, self.machine_busy - own)
        side_cpu = self.servers.get(side)
        return {
            "server_cpu_seconds": round(side_cpu, 3) if side_cpu is not None else None,
            "server_cpu_ms_per_request": round(1000.0 * side_cpu / requests, 1)
            if side_cpu is not None and requests
            else None,
            "bench_cpu_seconds": round(self.bench, 3),
            "other_cpu_percent": round(100.0 * other / self.wall, 1) if self.wall > 0 else None,
        }
