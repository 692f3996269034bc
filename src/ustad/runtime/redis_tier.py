"""Every Redis command of a worker, bounded, counted and behind one circuit breaker.

The shared tier is an optimisation, never a dependency of a turn: each command waits
at most the socket timeout, a failure raises ``RedisDownError`` (the caller falls back to
its in-process tier), and after ``breaker_failures`` failures in a row the breaker
(``purgatory``) opens, so while Redis is down no command is sent and nothing waits.
After ``breaker_reset_seconds`` one probe command is let through; when it succeeds
the breaker closes and Redis is used again, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ustad.redis_settings import RedisSettings
from ustad.stat_fields import counter, gauge

log = logging.getLogger(__name__)

T = TypeVar("T")

_BREAKER = "redis"


class RedisDownError(Exception):
    """A Redis command failed, timed out or was not sent (breaker open)."""


@dataclass(frozen=True)
class RedisStats:
    """This worker's view of the shared tier (the ``ustad_redis_*`` series)."""

    up: int = field(metadata=gauge("1 while Redis answers this worker, 0 while it does not."))
    commands: int = field(metadata=counter("Redis commands (or pipelines) sent."))
    errors: int = field(metadata=counter("Redis commands that failed or timed out."))
    skipped: int = field(metadata=counter("Redis commands not sent: the breaker was open."))
    breaker_opened: int = field(metadata=counter("Times the Redis circuit breaker opened."))


@dataclass(frozen=True)
class SharedLimitStats:
    """The rate limits and session cap shared through Redis, as this worker sees them
    (the ``ustad_shared_limits_*`` series)."""

    fleet_sessions: int = field(
        metadata=gauge(
            "Sessions across the workers sharing USTAD_REDIS__SESSION_CAP, as last read "
            "(this worker's alone while Redis does not answer)."
        )
    )
    fleet_refused: int = field(
        metadata=counter("Sessions refused: the workers together were at the cap.")
    )
    rate_checks_local: int = field(
        metadata=counter("Rate-limit checks counted in-process: Redis did not answer.")
    )


class RedisTier:
    """One worker's Redis client with its key prefix, breaker and counters.

    Event-loop only. ``run(command)`` awaits ``command(client)`` and returns its result
    or raises ``RedisDownError``; callers never see a redis-py exception.
    """

    def __init__(self, client: Redis, settings: RedisSettings) -> None:
        self.client = client
        self.settings = settings
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.breaker_failures,
            default_ttl=settings.breaker_reset_seconds,
        )
        self._breakers.add_listener(self._breaker_event)
        self._probing = False
        self._up = True
        self._commands = 0
        self._errors = 0
        self._skipped = 0
        self._opened = 0

    @property
    def up(self) -> bool:
        """False from a failed command until the next one that succeeds."""
        return self._up

    def key(self, *parts: str) -> str:
        """A key under this deployment's prefix: ``<prefix><part>:<part>...``."""
        return self.settings.key_prefix + ":".join(parts)

    async def run(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        """``command(client)``'s result, within twice the socket timeout (a command may
        need a connection first); ``RedisDownError`` when it fails or the breaker is open."""
        breaker = await self._breakers.get_breaker(_BREAKER)
        probing = breaker.context.state != "closed"
        if probing and self._probing:
            self._skipped += 1
            raise RedisDownError("a probe command is in progress")
        self._probing = self._probing or probing
        cancelled: asyncio.CancelledError | None = None
        try:
            async with breaker:
                self._commands += 1
                try:
                    async with asyncio.timeout(2 * self.settings.socket_timeout_seconds):
                        result = await command(self.client)
                except asyncio.CancelledError as error:
                    cancelled = error  # the caller went away: no failure of Redis
        except OpenedState as error:
            self._skipped += 1
            self._up = False
            raise RedisDownError("circuit breaker open") from error
        except (RedisError, OSError, TimeoutError) as error:
            self._errors += 1
            if self._up:
                log.warning("Redis failed (%s): the in-process tier answers", type(error).__name__)
            self._up = False
            raise RedisDownError(str(error) or type(error).__name__) from error
        finally:
            if probing:
                self._probing = False
        if cancelled is not None:
            raise cancelled
        if not self._up:
            log.info("Redis answers again: the shared tier is back")
        self._up = True
        return result

    def _breaker_event(self, name: str, kind: str, event: Any) -> None:
        """purgatory's hook: count the breaker opening."""
        if kind == "state_changed" and str(getattr(event, "state", "")) == "opened":
            self._opened += 1
            log.warning(
                "Redis circuit breaker open: no Redis command for %.1f s",
                self.settings.breaker_reset_seconds,
            )

    def stats(self) -> RedisStats:
        """Counters since start and whether Redis answered the last command."""
        return RedisStats(
            up=int(self._up),
            commands=self._commands,
            errors=self._errors,
            skipped=self._skipped,
            breaker_opened=self._opened,
        )
