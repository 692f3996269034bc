"""In-process LRU caches with statistics and single-flight loading.

Synthesised speech and translations are pure functions of their inputs, so the
same sentence asked for by many learners is computed once. ``get_or_compute``
also coalesces concurrent misses: when ten sessions ask for the same uncached
reply at once, one engine call runs and the other nine await its result.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from ustad.caching import CacheStats

# One snapshot type for these caches and ``ustad.caching.MemoryCache`` (the encoder
# cache): the service lists both kinds side by side.
__all__ = ["CacheStats", "LruCache", "cache_key"]

V = TypeVar("V")


def cache_key(*parts: object) -> str:
    """A stable key for the parts (engine, voice, text, format, ...)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


class LruCache(Generic[V]):
    """An LRU cache bounded by total size and/or entry count.

    ``size_of`` gives each value's size in bytes; a bound of ``None`` means no bound
    of that kind, and a bound of 0 disables caching (every lookup computes).
    """

    def __init__(
        self,
        name: str,
        *,
        size_of: Callable[[V], int],
        max_bytes: int | None = None,
        max_entries: int | None = None,
    ) -> None:
        self.name = name
        self._size_of = size_of
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[V]] = {}
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._coalesced = 0
        self._evictions = 0

    @property
    def enabled(self) -> bool:
        """False when a bound of zero turns the cache off."""
        return self._max_bytes != 0 and self._max_entries != 0

    def get(self, key: str) -> V | None:
        """The cached value (counted as a hit or a miss)."""
        found = self._entries.get(key)
        if found is None:
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return found[0]

    def put(self, key: str, value: V) -> None:
        """Store a value, evicting the least recently used entries past the bounds."""
        if not self.enabled:
            return
        size = self._size_of(value)
        if self._max_bytes is not None and size > self._max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._entries[key] = (value, size)
        self._bytes += size
        while self._over_bounds():
            _, (_, evicted_size) = self._entries.popitem(last=False)
            self._bytes -= evicted_size
            self._evictions += 1

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    async def get_or_compute(self, key: str, compute: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or compute it once however many callers ask at the same time."""
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
                # The caller that was computing went away: compute it here instead.
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
            # Nobody else may be waiting; retrieving the exception avoids a warning.
            future.exception()
            raise
        else:
            future.set_result(value)
            self.put(key, value)
            return value
        finally:
            del self._inflight[key]

    def stats(self) -> CacheStats:
        """Counters since start."""
        return CacheStats(
            name=self.name,
            hits=self._hits,
            misses=self._misses,
            coalesced=self._coalesced,
            evictions=self._evictions,
            entries=len(self._entries),
            bytes=self._bytes,
            max_bytes=self._max_bytes,
            max_entries=self._max_entries,
        )

    def clear(self) -> None:
        """Drop every entry (counters stay)."""
        self._entries.clear()
        self._bytes = 0

    def _over_bounds(self) -> bool:
        if self._max_entries is not None and len(self._entries) > self._max_entries:
            return True
        return self._max_bytes is not None and self._bytes > self._max_bytes
