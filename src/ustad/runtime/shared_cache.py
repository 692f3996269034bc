"""The Redis tier of a cache: values every worker shares, computed once among them.

A ``SharedCache`` sits behind a worker's ``MemoryCache`` (whose in-process single-
flight stays: one caller per worker gets here for a key at a time). On a miss in
memory, ``get_or_compute``:

1. reads the value from Redis (a hit: no engine runs in this worker);
2. otherwise takes the key's lock (``redis_lock``) and computes, writes the value
   with a TTL (``cache_ttl_seconds``) and frees the lock;
3. if another worker holds the lock, polls for its value (coalesced across workers)
   for at most ``lock_wait_seconds``; if the holder frees the lock without a value
   (it failed, or died and the lock expired) a waiter takes the lock and computes;
   past the bound the waiter computes locally rather than fail the turn.

Redis trouble never fails a call: any ``RedisDownError`` makes this worker compute the
value itself (counted as ``errors``). Values are packed by ``shared_codec`` (JSON
header, raw body); a value that does not unpack, is larger than ``max_value_bytes``
or is a key of another type is counted as ``rejected`` and is a miss; a value too
large to write is kept out of Redis (``too_large``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from ustad.runtime import redis_lock
from ustad.runtime.redis_tier import RedisDownError, RedisTier
from ustad.runtime.shared_codec import Codec, pack, unpack
from ustad.runtime.timing import shared_since
from ustad.stat_fields import counter

V = TypeVar("V")

_FIRST_POLL: Final = 0.02
_LAST_POLL: Final = 0.25
"""Seconds between a waiter's looks for the value: doubling from the first to the last."""
_UNPACK_ON_THREAD: Final = 64 * 1024
"""Values at least this large are unpacked (and their audio hashed) off the event loop."""


@dataclass(frozen=True)
class SharedCacheStats:
    """One cache's Redis tier, as this worker sees it (the ``ustad_shared_cache_*`` series)."""

    name: str
    hits: int = field(metadata=counter("Lookups answered from Redis."))
    misses: int = field(metadata=counter("Lookups that found nothing in Redis."))
    errors: int = field(
        metadata=counter("Lookups Redis could not answer (failed, timed out, breaker open).")
    )
    rejected: int = field(metadata=counter("Values in Redis refused: malformed or oversized."))
    coalesced: int = field(metadata=counter("Misses answered by another worker's computation."))
    waited_out: int = field(
        metadata=counter("Waits for another worker past the bound: computed here instead.")
    )
    writes: int = field(metadata=counter("Values written to Redis."))
    too_large: int = field(metadata=counter("Values too large to write to Redis."))

    @property
    def hit_rate(self) -> float:
        """Share of lookups answered from Redis, 0-1 (0 when unused)."""
        lookups = self.hits + self.misses
        return (self.hits / lookups) if lookups else 0.0


def always(_: object) -> bool:
    """The default ``share`` predicate: every computed value is shared."""
    return True


class SharedCache(Generic[V]):
    """Values of one kind under ``<prefix>cache:<name>:<key>`` in Redis. Event-loop only."""

    def __init__(self, name: str, tier: RedisTier, codec: Codec[V]) -> None:
        self.name = name
        self.tier = tier
        self.codec = codec
        self._counts = dict.fromkeys(
            ("hits", "misses", "errors", "rejected", "coalesced", "waited_out", "writes"), 0
        )
        self._counts["too_large"] = 0

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[V]],
        share: Callable[[V], bool] = always,
    ) -> V:
        """The value from Redis, or computed once among the workers; ``share(value)``
        False keeps a computed value out of Redis (e.g. a stand-in voice's reply)."""
        value_key = self.tier.key("cache", self.name, key)
        lock_key = self.tier.key("lock", self.name, key)
        try:
            found = await self._read(value_key, first=True)
            if found is not None:
                self._counts["hits"] += 1
                return found
            self._counts["misses"] += 1
            token, found = await self._lock_or_wait(value_key, lock_key)
        except RedisDownError:
            self._counts["errors"] += 1
            return await compute()
        if found is not None:
            self._counts["coalesced"] += 1
            return found
        try:
            value = await compute()
        finally:
            if token is not None:
                await self._release(lock_key, token)
        if share(value):
            await self._write(value_key, value)
        return value

    async def _lock_or_wait(self, value_key: str, lock_key: str) -> tuple[str | None, V | None]:
        """The lock's token (compute now), or another worker's value; ``(None, None)``
        when the wait passed its bound (compute without the lock)."""
        settings = self.tier.settings
        deadline = time.monotonic() + settings.lock_wait_seconds
        pause = _FIRST_POLL
        while True:
            token = await redis_lock.acquire(self.tier, lock_key, settings.lock_seconds)
            if token is not None:
                # The holder before us may have written the value and gone between our
                # look and our lock: look once more before computing it again.
                try:
                    found = await self._read(value_key)
                except BaseException:  # Redis gone or caller cancelled: free it now
                    await self._release(lock_key, token)
                    raise
                if found is None:
                    return token, None
                await self._release(lock_key, token)
                return None, found
            waiting = time.perf_counter()
            try:
                while True:
                    if time.monotonic() >= deadline:
                        self._counts["waited_out"] += 1
                        return None, None
                    await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                    pause = min(2 * pause, _LAST_POLL)
                    found = await self._read(value_key)
                    if found is not None:
                        return None, found
                    if not await redis_lock.held(self.tier, lock_key):
                        break  # the holder gave up or died: take the lock ourselves
            finally:
                shared_since(waiting)  # another worker's computation, not ustad's own time

    async def _read(self, value_key: str, *, first: bool = False) -> V | None:
        """The value under ``value_key`` (``None``: absent or refused; a refusal is
        counted on a lookup's ``first`` read only, not on every look while waiting)."""

        async def get(client: Redis) -> bytes | None:
            try:
                raw = await client.get(value_key)
            except ResponseError as error:
                if not str(error).startswith("WRONGTYPE"):
                    raise
                # Redis answered: the key holds a list, hash, ... that ustad never
                # writes. A refused value (b"" is not ustad's layout), so the value
                # computed next overwrites it, rather than a Redis failure for ever.
                return b""
            return raw if isinstance(raw, bytes) else None

        raw = await self.tier.run(get)
        if raw is None:
            return None
        limit = self.tier.settings.max_value_bytes
        try:
            if len(raw) >= _UNPACK_ON_THREAD:
                return await asyncio.to_thread(unpack, self.codec, raw, limit)
            return unpack(self.codec, raw, limit)
        except ValueError:
            self._counts["rejected"] += int(first)
            return None

    async def _write(self, value_key: str, value: V) -> None:
        """Share ``value`` (skipped when too large; a Redis failure only costs sharing)."""
        raw = pack(self.codec, value)
        if len(raw) > self.tier.settings.max_value_bytes:
            self._counts["too_large"] += 1
            return
        ttl_ms = self.tier.settings.cache_ttl_seconds * 1000

        async def put(client: Redis) -> None:
            await client.set(value_key, raw, px=ttl_ms)

        try:
            await self.tier.run(put)
            self._counts["writes"] += 1
        except RedisDownError:
            self._counts["errors"] += 1

    async def _release(self, lock_key: str, token: str) -> None:
        with contextlib.suppress(RedisDownError):  # if not, the lock expires by itself
            await redis_lock.release(self.tier, lock_key, token)

    def stats(self) -> SharedCacheStats:
        """Counters since start."""
        return SharedCacheStats(name=self.name, **self._counts)


async def through(
    cache: SharedCache[V] | None,
    key: str,
    compute: Callable[[], Awaitable[V]],
    share: Callable[[V], bool] = always,
) -> V:
    """``cache.get_or_compute(key, compute, share)``, or just ``compute()`` without a
    shared tier (Redis not configured)."""
    if cache is None:
        return await compute()
    return await cache.get_or_compute(key, compute, share)
