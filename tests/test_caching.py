"""MemoryCache: bounds, statistics, single-flight computation and the threaded path."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from ustad.caching import MemoryCache, cache_key


def test_key_is_stable_and_distinguishes_parts() -> None:
    assert cache_key("piper", "joe", "hi", "mp3") == cache_key("piper", "joe", "hi", "mp3")
    assert cache_key("a", "bc") != cache_key("ab", "c")
    assert cache_key(1) != cache_key("1")


def test_byte_bound_evicts_least_recently_used() -> None:
    cache: MemoryCache[str, bytes] = MemoryCache("t", size_of=len, max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")
    assert "b" not in cache and "a" in cache and "c" in cache
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.evictions, stats.hits) == (2, 8, 1, 1)
    assert (stats.max_bytes, stats.max_entries) == (10, None)


def test_a_value_larger_than_the_byte_bound_is_not_kept() -> None:
    cache: MemoryCache[str, bytes] = MemoryCache("t", size_of=len, max_bytes=10)
    cache.put("small", b"12")
    cache.put("huge", b"x" * 11)
    assert "huge" not in cache and "small" in cache  # nothing evicted to make room either
    cache.put("small", b"x" * 11)  # replacing with a too-large value keeps the old one
    assert cache.get("small") == b"12"
    assert cache.stats().evictions == 0


def test_entry_bound_evicts_and_counts() -> None:
    cache: MemoryCache[str, str] = MemoryCache("t", max_entries=2)
    for key in "abc":
        cache.put(key, key)
    stats = cache.stats()
    assert (stats.entries, stats.evictions, stats.bytes) == (2, 1, 0)  # no size_of: 0 bytes
    assert "a" not in cache and "b" in cache and "c" in cache


def test_both_bounds_apply_whichever_is_reached_first() -> None:
    cache: MemoryCache[str, bytes] = MemoryCache("t", size_of=len, max_bytes=10, max_entries=3)
    for key in "abcd":
        cache.put(key, b"1")  # four tiny values: the entry bound bites
    assert len(cache) == 3 and "a" not in cache
    cache.put("big", b"12345678")  # 3 + 8 bytes > 10: the byte bound bites
    stats = cache.stats()
    assert (stats.bytes, stats.entries, stats.evictions) == (10, 3, 1 + 1)
    assert "big" in cache and "b" not in cache


@pytest.mark.parametrize("bounds", [{"max_entries": 0}, {"max_bytes": 0}])
async def test_a_bound_of_zero_turns_the_cache_off(bounds: dict[str, int]) -> None:
    cache: MemoryCache[str, str] = MemoryCache("off", size_of=len, **bounds)
    assert not cache.enabled
    cache.put("a", "a")
    assert cache.get("a") is None
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        return "v"

    assert await cache.get_or_compute("k", compute) == "v"
    assert await cache.get_or_compute("k", compute) == "v"
    assert cache.get_or_compute_sync("k", lambda: "v") == "v"
    assert calls == 2 and cache.stats().entries == 0


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="size_of"):
        MemoryCache("t", max_bytes=10)
    with pytest.raises(ValueError, match=">= 0"):
        MemoryCache("t", max_entries=-1)


def test_clear_drops_entries_but_keeps_counters() -> None:
    cache: MemoryCache[str, bytes] = MemoryCache("t", size_of=len, max_bytes=100)
    cache.put("a", b"1")
    cache.put("b", b"1")
    assert cache.get("a") == b"1"
    cache.clear()
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.hits, stats.evictions) == (0, 0, 1, 0)


def test_discard_forgets_one_entry() -> None:
    cache: MemoryCache[str, str] = MemoryCache("t", max_entries=4)
    cache.put("a", "1")
    cache.put("b", "2")
    cache.discard("a")
    cache.discard("missing")
    assert "a" not in cache and cache.get("b") == "2"
    assert cache.stats().evictions == 0


async def test_concurrent_misses_compute_once() -> None:
    cache: MemoryCache[str, str] = MemoryCache("t", max_entries=10)
    calls = 0
    release = asyncio.Event()

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "value"

    tasks = [asyncio.create_task(cache.get_or_compute("k", compute)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*tasks) == ["value"] * 5
    assert calls == 1
    stats = cache.stats()
    assert stats.misses == 5 and stats.coalesced == 4
    assert await cache.get_or_compute("k", compute) == "value" and calls == 1
    assert cache.stats().hits == 1 and cache.stats().hit_rate == pytest.approx(1 / 6)


async def test_an_exception_reaches_every_waiter_and_is_not_cached() -> None:
    cache: MemoryCache[str, str] = MemoryCache("t", max_entries=10)
    release = asyncio.Event()
    calls = 0

    async def boom() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        raise RuntimeError("engine down")

    tasks = [asyncio.create_task(cache.get_or_compute("k", boom)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    for task in tasks:
        with pytest.raises(RuntimeError, match="engine down"):
            await task
    assert calls == 1 and "k" not in cache

    async def fine() -> str:
        return "ok"

    assert await cache.get_or_compute("k", fine) == "ok"  # the failure left nothing behind


async def test_a_waiter_computes_when_the_computing_caller_is_cancelled() -> None:
    cache: MemoryCache[str, str] = MemoryCache("t", max_entries=10)
    started = asyncio.Event()

    async def never() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    async def fast() -> str:
        return "fast"

    first = asyncio.create_task(cache.get_or_compute("k", never))
    await started.wait()
    second = asyncio.create_task(cache.get_or_compute("k", fast))
    await asyncio.sleep(0)  # second is now waiting on first's computation
    first.cancel()
    assert await second == "fast"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert cache.get("k") == "fast"


async def test_a_cancelled_waiter_leaves_the_computation_running() -> None:
    cache: MemoryCache[str, str] = MemoryCache("t", max_entries=10)
    release = asyncio.Event()

    async def compute() -> str:
        await release.wait()
        return "value"

    first = asyncio.create_task(cache.get_or_compute("k", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cache.get_or_compute("k", compute))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    assert await first == "value" and cache.get("k") == "value"


def test_the_sync_path_under_threads_keeps_bounds_and_counts() -> None:
    cache: MemoryCache[int, bytes] = MemoryCache("t", size_of=len, max_bytes=64, max_entries=6)
    computed: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def compute(key: int) -> bytes:
        with lock:
            computed.append(key)
        return bytes(8)

    def worker(seed: int) -> list[bytes]:
        start.wait()  # all four threads hammer the cache at once
        keys = [(seed + i) % 10 for i in range(500)]
        return [cache.get_or_compute_sync(key, partial(compute, key)) for key in keys]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(worker, range(4)))
    assert all(value == bytes(8) for values in results for value in values)
    stats = cache.stats()
    assert stats.hits + stats.misses == 4 * 500  # every lookup counted exactly once
    assert stats.misses == len(computed)  # each miss computed once, outside the lock
    assert stats.entries <= 6 and stats.bytes == 8 * stats.entries
    # Ten keys through six places: some were evicted; two threads missing one key at
    # once both put it, and the second put replaces rather than evicts.
    assert 0 < stats.evictions <= len(computed) - stats.entries
