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
    """Longest wait for a new database connection to open before failing (waiting for a free
    pooled PostgreSQL one is ``pool_timeout_seconds``)."""
    statement_timeout_seconds: float = Field(default=10.0, gt=0.0, le=3600.0)
    """Longest a statement may run (PostgreSQL ``statement_timeout`` and the driver's command
    timeout; SQLite's lock wait) before it fails."""
    store_timeout_seconds: float = Field(default=2.0, gt=0.0, le=60.0)
    """Longest one store write of a learn session may take; past it (or on a database
    error) the write goes to the outbox and the session carries on without it."""
    pool_size: int = Field(default=5, ge=1, le=100)
    """PostgreSQL connections each worker keeps open. A worker runs one event loop whose
    store writes are short, so a handful serve it; every worker holds this many, so
    ``workers x (pool_size + max_overflow)`` must stay under the server's ``max_connections``
    (SQLite keeps its own pool)."""
    max_overflow: int = Field(default=5, ge=0, le=100)
    """Extra PostgreSQL connections a worker may open past ``pool_size`` under a burst,
    closed again when returned, so a burst waits less without holding idle connections."""
    pool_pre_ping: bool = True
    """Test a pooled PostgreSQL connection (a cheap round trip) before handing it out, so one
    the server, a restart or a proxy closed while idle is replaced instead of failing a
    request."""
    pool_recycle_seconds: int = Field(default=1800, ge=-1, le=86_400)
    """Replace a PostgreSQL connection once it is this old (-1 = never), staying under the
    idle limits of firewalls and poolers (PgBouncer, cloud proxies) that drop connections
    silently."""
    pool_timeout_seconds: float = Field(default=5.0, gt=0.0, le=300.0)
    """Longest a request waits for a free pooled PostgreSQL connection when all
    ``pool_size + max_overflow`` are busy; past it the write fails (and a learn session's
    goes to the outbox) rather than queueing without bound."""
    health_timeout_seconds: float = Field(default=1.0, gt=0.0, le=60.0)
    """Longest ``/health`` waits for the database before reporting it ``degraded``."""
    outbox_dir: Path = Path("var/outbox")
    """Local journal (JSON lines, fsync'd) of learn-session writes the database did not take in
    time, replayed in order until stored; each server process takes a ``worker-<n>`` slot in it
    and takes over the slots of stopped ones."""
    outbox_retry_max_seconds: float = Field(default=5.0, gt=0.0, le=600.0)
    """Longest pause between two attempts to replay an outbox entry (backoff doubles up to it)."""
