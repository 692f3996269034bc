"""Settings of the shared tier (``USTAD_REDIS__*``).

Off by default: the embedded set-up keeps every cache, limit and resumable session in
its own process. With ``url`` set, the workers that share it share those too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class RedisSettings(BaseModel):
    """Where the shared tier is and how long to wait for it."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    url: SecretStr | None = None
    """Redis URL, e.g. ``redis://127.0.0.1:6379/0`` (a password in it is kept secret);
    unset keeps everything in-process."""
    key_prefix: str = Field(default="ustad:", min_length=1, max_length=64)
    """Prefix of every key ustad writes, so deployments can share one Redis."""
    socket_timeout_seconds: float = Field(default=0.5, gt=0.0, le=30.0)
    """Longest wait for one Redis command or connection; past it the command counts as
    failed and the in-process tier answers."""
    max_connections: int = Field(default=32, ge=1, le=1024)
    """Connections in this worker's pool; a command finding all in use waits for one (up
    to ``socket_timeout_seconds``) rather than fail."""
    cache_ttl_seconds: int = Field(default=24 * 3600, ge=1, le=30 * 24 * 3600)
    """How long a shared reply or translation stays in Redis after it is written; every
    key ustad writes expires, so a Redis with ``maxmemory-policy volatile-lru`` (or
    ``allkeys-lru``) can always make room."""
    max_value_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest value ustad writes to (or accepts from) Redis; a larger reply stays in
    this worker's memory and disk tiers only, a larger value read is a counted miss."""
    lock_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    """How long a worker computing a shared value holds its lock; a worker that dies
    holding it stops blocking the others after this long."""
    lock_wait_seconds: float = Field(default=10.0, ge=0.0, le=600.0)
    """Longest a worker waits for another worker computing the same value; past it the
    worker computes the value itself rather than fail the turn."""
    breaker_failures: int = Field(default=3, ge=1, le=100)
    """Failed Redis commands in a row that open the circuit breaker (then no command is
    sent, and nothing waits, until ``breaker_reset_seconds`` have passed)."""
    breaker_reset_seconds: float = Field(default=5.0, gt=0.0, le=600.0)
    """How long the breaker stays open before one probe command tries Redis again."""
    session_cap: int | None = Field(default=None, ge=1, le=1_000_000)
    """Learner sessions across every worker sharing this Redis (each worker still holds
    at most ``USTAD_LIMITS__MAX_SESSIONS``); unset: only the per-worker cap."""
    lease_seconds: float = Field(default=15.0, ge=1.0, le=600.0)
    """A worker's session count in Redis expires this long after its last refresh
    (refreshed at least once a second), so a crashed worker's sessions stop counting."""

    @model_validator(mode="after")
    def _cap_needs_redis(self) -> RedisSettings:
        if self.session_cap is not None and self.url is None:
            raise ValueError("USTAD_REDIS__SESSION_CAP needs USTAD_REDIS__URL")
        return self
