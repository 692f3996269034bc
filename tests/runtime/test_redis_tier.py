"""Every Redis command bounded, counted and behind the breaker."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from tests.runtime.shared_tier import tiers, unique_prefix
from ustad.redis_settings import RedisSettings
from ustad.runtime.redis_tier import RedisDownError


async def test_commands_are_counted_and_redis_is_up() -> None:
    async with tiers(unique_prefix()) as make:
        tier = make()
        assert await tier.run(lambda client: client.ping())
        stats = tier.stats()
        assert stats.up == 1 and stats.commands == 1 and stats.errors == 0
        assert tier.key("cache", "x") == f"{tier.settings.key_prefix}cache:x"


async def test_a_dead_redis_opens_the_breaker_and_then_nothing_is_sent() -> None:
    async with tiers(unique_prefix(), url="redis://127.0.0.1:9/15") as make:
        tier = make(socket_timeout_seconds=0.2, breaker_failures=2, breaker_reset_seconds=60.0)
        for _ in range(5):
            with pytest.raises(RedisDownError):
                await tier.run(lambda client: client.ping())
        stats = tier.stats()
        assert stats.up == 0 and stats.breaker_opened == 1
        assert stats.errors == 2 and stats.skipped == 3 and stats.commands == 2


async def test_a_cancelled_command_is_no_failure_of_redis() -> None:
    async with tiers(unique_prefix()) as make:
        tier = make(breaker_failures=1, socket_timeout_seconds=5.0)
        started = asyncio.Event()

        async def slow(client: Redis) -> object:
            started.set()
            return await client.blpop([tier.key("never")], timeout=4)

        task = asyncio.create_task(tier.run(slow))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await tier.run(lambda client: client.ping())
        stats = tier.stats()
        assert stats.up == 1 and stats.errors == 0 and stats.breaker_opened == 0


def test_a_session_cap_needs_a_redis() -> None:
    with pytest.raises(ValidationError, match="SESSION_CAP needs"):
        RedisSettings(session_cap=10)
