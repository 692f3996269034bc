"""The single-flight lock: one holder, only the holder frees it, it expires."""

from __future__ import annotations

import asyncio

from tests.runtime.shared_tier import tiers, unique_prefix
from ustad.runtime import redis_lock


async def test_one_holder_at_a_time_and_only_the_holder_frees_it() -> None:
    async with tiers(unique_prefix()) as make:
        tier = make()
        key = tier.key("lock", "test")
        token = await redis_lock.acquire(tier, key, 30.0)
        assert token is not None
        assert await redis_lock.acquire(tier, key, 30.0) is None
        assert await redis_lock.held(tier, key)
        assert not await redis_lock.release(tier, key, "not-the-token")
        assert await redis_lock.held(tier, key)
        assert await redis_lock.release(tier, key, token)
        assert not await redis_lock.held(tier, key)


async def test_a_lock_whose_holder_died_expires() -> None:
    async with tiers(unique_prefix()) as make:
        tier = make()
        key = tier.key("lock", "test")
        assert await redis_lock.acquire(tier, key, 0.05) is not None
        for _ in range(100):
            if not await redis_lock.held(tier, key):
                break
            await asyncio.sleep(0.02)
        assert await redis_lock.acquire(tier, key, 30.0) is not None
