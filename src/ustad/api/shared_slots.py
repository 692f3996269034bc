"""The session cap across workers (``USTAD_REDIS__SESSION_CAP``), by leases in Redis.

Each worker publishes how many sessions it holds: its count in a hash and a lease in
a sorted set (score: when the lease expires, on Redis's clock). One script refreshes
this worker's lease, drops the leases that expired (a worker that crashed stops
counting after ``lease_seconds``) and returns the count of every worker with a live
lease (a count that is not a small decimal number counts as 0; a key of the wrong
type is dropped). A worker
refreshes whenever its own count changes and at least once a second (more often
than a third of ``lease_seconds``, so a live worker's lease never lapses).

``SessionSlots.take`` stays synchronous and instant: it admits a session while this
worker's sessions plus the other workers' (as last read) are under the cap. The cap
can therefore be overshot briefly by sessions admitted at the same instant on
different workers (by at most one refresh's worth of admissions); each worker's own
``USTAD_LIMITS__MAX_SESSIONS`` is never overshot. While Redis does not answer, the
other workers' sessions are not known and each worker admits up to its own cap
(fail open); the shared cap applies again after the next successful refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from ustad.runtime.redis_tier import RedisDownError, RedisTier

log = logging.getLogger(__name__)

_REFRESH: Final = """
-- A key of another type (not one ustad wrote) would fail every refresh: drop it.
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then redis.call('DEL', KEYS[1]) end
if redis.call('TYPE', KEYS[2]).ok ~= 'hash' then redis.call('DEL', KEYS[2]) end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lease_ms = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now_ms + lease_ms, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms)
for _, worker in ipairs(expired) do
    redis.call('ZREM', KEYS[1], worker)
    redis.call('HDEL', KEYS[2], worker)
end
redis.call('PEXPIRE', KEYS[1], 2 * lease_ms)
redis.call('PEXPIRE', KEYS[2], 2 * lease_ms)
local found = {}
for _, worker in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local count = redis.call('HGET', KEYS[2], worker)
    if count then
        table.insert(found, worker)
        table.insert(found, count)
    end
end
return found
"""

_MAX_COUNT_DIGITS: Final = 9
"""A worker's count longer than this (or not decimal digits) is not one ustad wrote."""

_LEAVE: Final = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 0
"""


class SharedSessionCap:
    """This worker's share of a session cap kept in Redis.

    ``cap``: sessions across the workers; ``lease_seconds``: how long a worker's count
    counts without a refresh. ``begin(count)`` starts refreshing (``count()`` is this
    worker's open sessions), ``changed()`` asks for a refresh now, ``stop()`` ends and
    withdraws this worker's lease. Event-loop only.
    """

    def __init__(self, tier: RedisTier, cap: int, lease_seconds: float) -> None:
        self.tier = tier
        self.cap = cap
        self.lease_seconds = lease_seconds
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This worker's name in the lease set (host, process, and a random part)."""
        self.others: int | None = None
        """Sessions the other live workers held at the last refresh (``None``: unknown,
        Redis did not answer; then only the per-worker cap applies)."""
        self.refused = 0
        """Sessions refused because the workers together were at the cap."""
        self._leases = tier.key("sessions", "leases")
        self._counts = tier.key("sessions", "counts")
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def allows(self, open_here: int) -> bool:
        """Whether one more session fits, this worker holding ``open_here`` now."""
        if self.others is None or open_here + self.others < self.cap:
            return True
        self.refused += 1
        return False

    def changed(self) -> None:
        """This worker's count changed: publish it soon (without waiting here)."""
        self._changed.set()

    async def refresh(self, open_here: int) -> None:
        """Publish ``open_here``, renew the lease and read the others' counts."""

        async def run(client: Redis) -> list[bytes]:
            found: list[bytes] = await client.eval(
                _REFRESH,
                2,
                self._leases,
                self._counts,
                self.worker,
                str(open_here),
                str(int(self.lease_seconds * 1000)),
            )
            return found

        try:
            flat = await self.tier.run(run)
        except RedisDownError:
            self.others = None
            return
        counts = dict(zip(flat[::2], flat[1::2], strict=True))
        self.others = sum(
            _count(count) for worker, count in counts.items() if worker != self.worker.encode()
        )

    async def run(self, open_here: Callable[[], int]) -> None:
        """Refresh on every change and at least once a second, until cancelled."""
        interval = min(1.0, self.lease_seconds / 3)
        while True:
            try:
                await self.refresh(open_here())
            except Exception:
                # An answer nobody foresaw must not end the refreshing for good: this
                # round counts per worker (fail open, as while Redis is down).
                log.exception("shared session cap: refresh failed; counting per worker")
                self.others = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._changed.wait()
            self._changed.clear()

    def begin(self, open_here: Callable[[], int]) -> None:
        """Start ``run`` as this worker's background task."""
        self._task = asyncio.create_task(self.run(open_here), name="shared-session-cap")

    async def stop(self) -> None:
        """Stop refreshing and withdraw this worker's lease (best effort)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

        async def leave(client: Redis) -> None:
            await client.eval(_LEAVE, 2, self._leases, self._counts, self.worker)

        with contextlib.suppress(RedisDownError):
            await self.tier.run(leave)


def _count(raw: bytes) -> int:
    """A worker's published session count; 0 for a value ustad would not have written
    (not decimal digits, or absurdly long), so a hostile entry cannot stop the refresh."""
    if raw.isdigit() and len(raw) <= _MAX_COUNT_DIGITS:
        return int(raw)
    log.warning("a session count in Redis is not a count: ignored")
    return 0
