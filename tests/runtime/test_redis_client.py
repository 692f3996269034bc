"""The shared tier's client: off without a URL, real commands against the local Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import SecretStr
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ustad.redis_settings import RedisSettings
from ustad.runtime.redis_client import redis_from_settings

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_no_url_means_no_client() -> None:
    assert redis_from_settings(RedisSettings()) is None


async def test_a_configured_client_talks_to_redis() -> None:
    client = redis_from_settings(RedisSettings(url=SecretStr(REDIS_URL)))
    assert client is not None
    try:
        key = f"ustad-test:{time.monotonic_ns()}"
        assert await client.set(key, b"value", ex=10)
        assert await client.get(key) == b"value"
        await client.delete(key)
    finally:
        await client.aclose()


async def test_a_redis_that_does_not_answer_fails_fast() -> None:
    # Port 9 (discard) has no listener here: the command fails, it does not hang.
    settings = RedisSettings(url=SecretStr("redis://127.0.0.1:9/0"), socket_timeout_seconds=0.2)
    client = redis_from_settings(settings)
    assert client is not None
    try:
        with pytest.raises((RedisConnectionError, RedisTimeoutError)):
            await client.ping()
    finally:
        await client.aclose()


def test_the_url_is_a_secret() -> None:
    settings = RedisSettings(url=SecretStr("redis://:hunter2@127.0.0.1:6379/0"))
    assert "hunter2" not in repr(settings)


async def test_a_burst_beyond_the_pool_waits_for_connections_instead_of_failing() -> None:
    settings = RedisSettings(url=SecretStr(REDIS_URL), max_connections=2)
    client = redis_from_settings(settings)
    assert client is not None
    try:
        key = f"ustad-test:{time.monotonic_ns()}"
        answers = await asyncio.gather(*(client.get(key) for _ in range(40)))
        assert answers == [None] * 40
    finally:
        await client.aclose()
