"""The LRU cache: bounds, statistics and single-flight computation."""

from __future__ import annotations

import asyncio

import pytest

from ustad.runtime.cache import LruCache, cache_key


def test_key_is_stable_and_distinguishes_parts() -> None:
    assert cache_key("piper", "joe", "hi", "mp3") == cache_key("piper", "joe", "hi", "mp3")
    assert cache_key("a", "bc") != cache_key("ab", "c")


def test_byte_bound_evicts_least_recently_used() -> None:
    cache: LruCache[bytes] = LruCache("t", size_of=len, max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")
    assert "b" not in cache and "a" in cache and "c" in cache
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.evictions, stats.hits) == (2, 8, 1, 1)
    cache.put("huge", b"x" * 11)  # larger than the whole budget: not stored
    assert "huge" not in cache


def test_entry_bound_and_disabled_cache() -> None:
    cache: LruCache[str] = LruCache("t", size_of=len, max_entries=2)
    for key in "abc":
        cache.put(key, key)
    assert cache.stats().entries == 2 and "a" not in cache
    off: LruCache[str] = LruCache("off", size_of=len, max_entries=0)
    off.put("a", "a")
    assert off.get("a") is None and not off.enabled


async def test_concurrent_misses_compute_once() -> None:
    cache: LruCache[str] = LruCache("t", size_of=len, max_entries=10)
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
    assert cache.stats().hits == 1


async def test_failed_computation_is_not_cached_and_reaches_waiters() -> None:
    cache: LruCache[str] = LruCache("t", size_of=len, max_entries=10)
    release = asyncio.Event()

    async def boom() -> str:
        await release.wait()
        raise RuntimeError("engine down")

    first = asyncio.create_task(cache.get_or_compute("k", boom))
    second = asyncio.create_task(cache.get_or_compute("k", boom))
    await asyncio.sleep(0)
    release.set()
    for task in (first, second):
        with pytest.raises(RuntimeError, match="engine down"):
            await task
    assert "k" not in cache


async def test_waiter_recomputes_when_the_computing_caller_is_cancelled() -> None:
    cache: LruCache[str] = LruCache("t", size_of=len, max_entries=10)
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(10)
        return "slow"

    async def fast() -> str:
        return "fast"

    first = asyncio.create_task(cache.get_or_compute("k", slow))
    await started.wait()
    second = asyncio.create_task(cache.get_or_compute("k", fast))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == "fast"
    with pytest.raises(asyncio.CancelledError):
        await first
