"""Per-client and per-learner rate limits (the ``limits`` library, moving windows).

Each client address may make ``USTAD_LIMITS__CLIENT_RATE`` HTTP requests and
WebSocket connections; each learner may send ``USTAD_LIMITS__LEARNER_TURN_RATE``
utterances. Counters live in ``limits``' in-process storage, so they are per
worker, until ``share(tier)`` (the lifespan, with ``USTAD_REDIS__URL``) moves them to
Redis, on the worker's own connection pool (``limits``' redis-py implementation):
then every worker counts against the same windows. While Redis does not answer
(failed command, open breaker) each worker falls back to its own in-process counters:
the limits fail open per worker rather than refuse or stall requests.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from ustad.runtime.redis_tier import RedisDownError, RedisTier
from ustad.settings import LimitSettings

ANONYMOUS = "session:"
"""Prefix of the turn-limit key of a session without a learner id (``/ws/learn``)."""


class RateLimits:
    """Asks whether one more request or turn is allowed, and when to retry if not."""

    def __init__(self, settings: LimitSettings, storage_uri: str = "async+memory://") -> None:
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"{storage_uri!r} is not an async storage (async+memory://, ...)")
        self._limiter = MovingWindowRateLimiter(storage)
        self._shared: tuple[RedisTier, MovingWindowRateLimiter] | None = None
        self._client = parse_many(settings.client_rate)
        self._turns = parse_many(settings.learner_turn_rate)
        self.refused = {"client": 0, "turn": 0}
        """Requests and turns refused since start, for the stats."""
        self.unshared = 0
        """Checks made on this worker's own counters because Redis did not answer."""

    def share(self, tier: RedisTier) -> None:
        """Count in Redis from now on (under ``<prefix>limits``), through ``tier``."""
        where = tier.client.connection_pool.connection_kwargs
        storage = RedisStorage(
            # limits wants a location; the tier's pool (below) is what is used.
            f"async+redis://{where.get('host', 'localhost')}:{where.get('port', 6379)}",
            implementation="redispy",
            key_prefix=tier.key("limits"),
            connection_pool=tier.client.connection_pool,  # type: ignore[arg-type]
        )
        self._shared = (tier, MovingWindowRateLimiter(storage))

    async def client(self, address: str) -> float | None:
        """``None`` if ``address`` may make one more request, else seconds to wait."""
        return await self._hit(self._client, "client", address)

    async def turn(self, learner: str) -> float | None:
        """``None`` if ``learner`` may send one more utterance, else seconds to wait.

        An anonymous session's key (``session:<id>``, unique only within its process)
        is counted in-process even when sharing: its session lives on one worker, and
        another worker's ``session:<id>`` may be a different learner."""
        if learner.startswith(ANONYMOUS):
            return await self._hit_on(self._limiter, self._turns, "turn", learner)
        return await self._hit(self._turns, "turn", learner)

    async def _hit(self, items: list[RateLimitItem], kind: str, key: str) -> float | None:
        if self._shared is not None:
            tier, limiter = self._shared
            try:
                return await tier.run(lambda _: self._hit_on(limiter, items, kind, key))
            except RedisDownError:
                self.unshared += 1
        return await self._hit_on(self._limiter, items, kind, key)

    async def _hit_on(
        self, limiter: MovingWindowRateLimiter, items: list[RateLimitItem], kind: str, key: str
    ) -> float | None:
        for item in items:
            if not await limiter.hit(item, kind, key):
                self.refused[kind] += 1
                stats = await limiter.get_window_stats(item, kind, key)
                return max(1.0, math.ceil(stats.reset_time - time.time()))
        return None


def client_address(scope: Scope) -> str:
    """The peer's address as uvicorn reports it (after its trusted proxy headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """429 with ``Retry-After`` for an HTTP client past its rate (WebSockets are checked
    by the ``/ws/learn`` route, which can close them with a reason)."""

    def __init__(self, app: ASGIApp, *, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wait = await self.limits.client(client_address(scope))
        if wait is None:
            await self.app(scope, receive, send)
            return
        body = (
            b'{"error": {"message": "too many requests", "type": "rate_limit_error", '
            b'"param": null, "code": "rate_limited"}}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(int(wait)).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
