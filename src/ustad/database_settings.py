"""Settings of the database (``USTAD_DB__*``): where it is and how long to wait for it.

The default is an SQLite file next to the server, the embedded set-up; a
``postgresql+asyncpg://`` URL scales out to many workers.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class DatabaseSettings(BaseModel):
    """Persistence of learners, sessions and turns."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    url: str = "sqlite+aiosqlite:///var/ustad.db"
    """SQLAlchemy async URL; e.g. ``postgresql+asyncpg://user@host/db`` to scale out."""
    migrate_on_start: bool = True
    """Run Alembic migrations to head when the app starts."""
    echo: bool = False
    """Log every SQL statement (debugging only)."""
    connect_timeout_seconds: float = Field(default=5.0, gt=0.0, le=300.0)
    """Longest wait for a new database connection (or a free pooled one) before failing."""
    statement_timeout_seconds: float = Field(default=10.0, gt=0.0, le=3600.0)
    """Longest a statement may run (PostgreSQL ``statement_timeout`` and the driver's command
    timeout; SQLite's lock wait) before it fails."""
    store_timeout_seconds: float = Field(default=2.0, gt=0.0, le=60.0)
    """Longest a learn session waits for one store write; past it (or on a database error)
    the write goes to the outbox and the reply leaves without it."""
    health_timeout_seconds: float = Field(default=1.0, gt=0.0, le=60.0)
    """Longest ``/health`` waits for the database before reporting it ``degraded``."""
    outbox_dir: Path = Path("var/outbox")
    """Local journal (JSON lines, fsync'd) of learn-session writes the database did not take in
    time, replayed in order until stored; each server process takes a ``worker-<n>`` slot in it
    and takes over the slots of stopped ones."""
    outbox_retry_max_seconds: float = Field(default=5.0, gt=0.0, le=600.0)
    """Longest pause between two attempts to replay an outbox entry (backoff doubles up to it)."""
