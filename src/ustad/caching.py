"""Bounded in-memory caches with one statistics type.

Every cache in ustad (synthesised segments and replies, translations, Whisper's
encoder outputs) is a ``MemoryCache``: a least-recently-used map from
``cachetools`` bounded by entry count and/or bytes, thread-safe, counting hits,
misses, evictions and coalesced loads into one ``CacheStats``. ``/health``,
``/v1/stats`` and ``/metrics`` are all generated from those snapshots.

Two ways to fill it:

- ``await get_or_compute(key, compute)`` (on the event loop) is single-flight:
  when ten sessions ask for the same missing value at once, one computation runs
  and the other nine await its result (counted as ``coalesced``);
- ``get_or_compute_sync(key, compute)`` (on a worker thread) computes outside the
  lock; two threads missing the same key at once both compute, which is rare for
  its one user (the encoder memo) and never wrong, since values are pure.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

from ustad.stat_fields import counter, gauge

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def cache_key(*parts: object) -> str:
    """A stable hex key for the parts (engine, voice, text, format, ...): SHA-256 of
    their ``repr``s, separated by a unit separator so ``("ab", "c") != ("a", "bc")``."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of one cache's counters (all counts since start).

    Fields marked ``counter``/``gauge`` are the ``ustad_cache_*`` series; every field
    and ``hit_rate`` are the JSON of ``/health`` and ``/v1/stats``.
    """

    name: str
    hits: int = field(metadata=counter("Cache lookups answered from the cache."))
    misses: int = field(metadata=counter("Cache lookups that found nothing."))
    coalesced: int = field(metadata=counter("Misses that awaited another caller's computation."))
    """Misses that waited for another caller's computation instead of computing."""
    evictions: int = field(metadata=counter("Entries evicted to stay within the bounds."))
    entries: int = field(metadata=gauge("Entries held."))
    bytes: int = field(metadata=gauge("Bytes held (as measured by the cache's size function)."))
    """Bytes held, as measured by the cache's ``size_of`` (0 when it has none)."""
    max_bytes: int | None
    max_entries: int | None

    @property
    def hit_rate(self) -> float:
        """Share of lookups answered without computing, 0-1 (0 when unused)."""
        lookups = self.hits + self.misses
        return (self.hits / lookups) if lookups else 0.0


class _CountingLru(LRUCache[Any, Any]):
    """``cachetools.LRUCache`` that counts what it evicts to stay within its bound."""

    evictions = 0

    def popitem(self) -> tuple[Any, Any]:
        self.evictions += 1
        return super().popitem()


class MemoryCache(Generic[K, V]):
    """An LRU cache bounded by entries and/or bytes, with statistics.

    ``size_of`` gives a value's size in bytes (needed for ``max_bytes``). A bound of
    ``None`` is no bound of that kind; a bound of 0 turns the cache off (every lookup
    computes, nothing is kept). A value larger than ``max_bytes`` is not kept.
    """

    def __init__(
        self,
        name: str,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        size_of: Callable[[V], int] | None = None,
    ) -> None:
        if max_bytes is not None and size_of is None:
            raise ValueError("max_bytes needs size_of")
        for bound in (max_entries, max_bytes):
            if bound is not None and bound < 0:
                raise ValueError(f"cache bounds must be >= 0, got {bound}")
        self.name = name
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        limit = math.inf if max_bytes is None else max_bytes
        if size_of is None:
            limit = math.inf if max_entries is None else max_entries
        self._lru = _CountingLru(maxsize=limit, getsizeof=size_of)
        self._measured = size_of is not None
        self._lock = threading.Lock()
        self._inflight: dict[K, asyncio.Future[V]] = {}
        self._hits = 0
        self._misses = 0
        self._coalesced = 0

    @property
    def enabled(self) -> bool:
        """False when a bound of zero turns the cache off."""
        return self._max_bytes != 0 and self._max_entries != 0

    def get(self, key: K) -> V | None:
        """The cached value (a hit, and now most recently used) or ``None`` (a miss)."""
        with self._lock:
            value: V | None = self._lru.get(key)
            if value is None:
                self._misses += 1
            else:
                self._hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        """Keep a value, evicting the least recently used entries past the bounds."""
        if not self.enabled:
            return
        with self._lock:
            try:
                self._lru[key] = value
            except ValueError:  # larger than the whole byte budget
                return
            while self._max_entries is not None and len(self._lru) > self._max_entries:
                self._lru.popitem()

    def discard(self, key: K) -> None:
        """Forget ``key``'s value, if kept (not an eviction)."""
        with self._lock:
            self._lru.pop(key, None)

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._lru

    def __len__(self) -> int:
        return len(self._lru)

    def get_or_compute_sync(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value, or ``compute()`` (outside the lock) kept and returned."""
        cached = self.get(key)
        if cached is not None:
            return cached
        value = compute()
        self.put(key, value)
        return value

    async def get_or_compute(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or compute it once however many callers ask at the same time.

        Event-loop only. If the caller that is computing is cancelled, a waiting caller
        computes instead; an exception reaches every caller that was waiting for it.
        """
        cached = self.get(key)
        if cached is not None:
            return cached
        pending = self._inflight.get(key)
        while pending is not None:
            self._coalesced += 1
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled
                pending = self._inflight.get(key)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # nobody else may be waiting: no "never retrieved" warning
            raise
        else:
            future.set_result(value)
            self.put(key, value)
            return value
        finally:
            del self._inflight[key]

    def stats(self) -> CacheStats:
        """Counters since start, entries and bytes now."""
        with self._lock:
            return CacheStats(
                name=self.name,
                hits=self._hits,
                misses=self._misses,
                coalesced=self._coalesced,
                evictions=self._lru.evictions,
                entries=len(self._lru),
                bytes=int(self._lru.currsize) if self._measured else 0,
                max_bytes=self._max_bytes,
                max_entries=self._max_entries,
            )

    def clear(self) -> None:
        """Drop every entry (the counters stay; dropping is not eviction)."""
        with self._lock:
            evictions = self._lru.evictions
            self._lru.clear()
            self._lru.evictions = evictions
