"""A lock in Redis that one worker holds while it computes a shared value.

``SET key token NX PX`` takes it; only the holder's token releases it (a compare-and-
delete script), so a holder whose lock expired cannot free another worker's. A holder
that dies is forgotten when the lock expires. Every command goes through the
``RedisTier`` (bounded, breaker), so taking or freeing a lock raises ``RedisDownError``
rather than wait on a Redis that is gone.
"""

from __future__ import annotations

import secrets
from typing import Final

from redis.asyncio import Redis

from ustad.runtime.redis_tier import RedisTier

_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


async def acquire(tier: RedisTier, key: str, seconds: float) -> str | None:
    """Take the lock ``key`` for ``seconds``: its token, or ``None`` when another worker
    holds it (``RedisDownError`` when Redis does not answer)."""
    token = secrets.token_hex(16)

    async def take(client: Redis) -> bool:
        return bool(await client.set(key, token, nx=True, px=max(1, int(seconds * 1000))))

    return token if await tier.run(take) else None


async def release(tier: RedisTier, key: str, token: str) -> bool:
    """Free the lock if ``token`` still holds it; False when it had expired or moved on."""

    async def free(client: Redis) -> int:
        return int(await client.eval(_RELEASE, 1, key, token))

    return await tier.run(free) == 1


async def held(tier: RedisTier, key: str) -> bool:
    """Whether some worker holds the lock ``key`` now."""

    async def exists(client: Redis) -> int:
        return int(await client.exists(key))

    return await tier.run(exists) == 1
