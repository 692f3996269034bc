"""Settings of the shared tier (``USTAD_REDIS__*``).

Off by default: the embedded set-up keeps every cache, limit and resumable session in
its own process. With ``url`` set, the workers that share it share those too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


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
    """Connections in this worker's pool."""
