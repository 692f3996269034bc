"""The one Redis connection pool of a worker, when the shared tier is configured."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from ustad.redis_settings import RedisSettings


def redis_from_settings(settings: RedisSettings) -> Redis | None:
    """A pooled asyncio client for ``settings.url``, or ``None`` when no URL is set.

    Nothing connects here: the pool opens connections on first use, so a Redis that is
    down at start-up costs failed commands (and the in-process tier), never a failed
    start. Every command and connection attempt waits at most
    ``settings.socket_timeout_seconds``, and so does a command for a free connection
    when all ``settings.max_connections`` are in use; the caller closes the client
    (and its pool) with ``aclose()``.
    """
    if settings.url is None:
        return None
    pool = BlockingConnectionPool.from_url(
        settings.url.get_secret_value(),
        # A command finding every connection in use waits for one (at most this long)
        # rather than fail: a burst of commands must not look like Redis going down.
        timeout=settings.socket_timeout_seconds,
        socket_timeout=settings.socket_timeout_seconds,
        socket_connect_timeout=settings.socket_timeout_seconds,
        max_connections=settings.max_connections,
        health_check_interval=30,
        decode_responses=False,
    )
    return Redis.from_pool(pool)
