"""The one Redis connection pool of a worker, when the shared tier is configured."""

from __future__ import annotations

from redis.asyncio import Redis

from ustad.redis_settings import RedisSettings


def redis_from_settings(settings: RedisSettings) -> Redis | None:
    """A pooled asyncio client for ``settings.url``, or ``None`` when no URL is set.

    Nothing connects here: the pool opens connections on first use, so a Redis that is
    down at start-up costs failed commands (and the in-process tier), never a failed
    start. Every command and connection attempt waits at most
    ``settings.socket_timeout_seconds``; the caller closes the client with ``aclose()``.
    """
    if settings.url is None:
        return None
    return Redis.from_url(
        settings.url.get_secret_value(),
        socket_timeout=settings.socket_timeout_seconds,
        socket_connect_timeout=settings.socket_timeout_seconds,
        max_connections=settings.max_connections,
        health_check_interval=30,
        decode_responses=False,
    )
