"""The async engine, its sessions, and running the packaged Alembic migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) works with the same
code. Migrations run on the application's own async engine: Alembic is synchronous,
so it is handed a sync view of one async connection via ``run_sync``.

Concurrent ``migrate()`` calls (several workers starting at once) are serialised:

- PostgreSQL: the whole upgrade runs in one transaction (PostgreSQL DDL is
  transactional) that first takes ``pg_advisory_xact_lock(MIGRATION_LOCK_KEY)``. A second
  worker waits on the lock, then finds ``alembic_version`` already at head and does
  nothing. The lock is released by the commit (or rollback), never leaked.
- SQLite: the upgrade runs inside ``BEGIN IMMEDIATE``, which takes SQLite's single write
  lock up front; other processes wait for it (the busy timeout) and then see head.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ustad.database_settings import DatabaseSettings
from ustad.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The packaged Alembic scripts (found from this package, not the working directory)."""

MIGRATION_LOCK_KEY = 0x7573_7461_6400
"""PostgreSQL advisory lock key held while migrating ("ustad" in ASCII, shifted)."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another writer's lock before failing (the default
statement timeout)."""


class DatabaseError(Exception):
    """The database URL cannot be used."""


def configured_url() -> str:
    """The URL the service is configured with (``USTAD_DB__URL``, ``.env``, or the default)."""
    return Settings().db.url


def alembic_config(
    url: str | URL | None = None,
    *,
    connection: Connection | None = None,
    configure_logger: bool = False,
) -> Config:
    """An Alembic ``Config`` for the packaged migration scripts.

    ``connection`` makes ``env.py`` migrate on that connection (inside its transaction);
    without it ``env.py`` opens its own engine on ``url``.
    """
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = configure_logger
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        # Kept out of the ini options, where '%' in a password would be read as interpolation.
        config.attributes["url"] = make_url(url)
    return config


def _json_dumps(value: Any) -> str:
    # Keep Urdu readable in the stored JSON instead of \u escapes.
    return json.dumps(value, ensure_ascii=False)


def _sqlite_on_connect(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    """Per-connection SQLite settings (they are not stored in the database file)."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL lets readers run while one writer writes; it is persistent once set.
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except Exception as error:
                # SQLite refuses the switch at once, without its busy handler, while
                # another connection holds a lock (two workers opening a new database).
                # Every connection passes here first, so the holder has switched the
                # file already; waiting would block the event loop.
                if "database is locked" not in str(error):
                    raise
            # SQLite ignores foreign keys unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        finally:
            cursor.close()

    return configure


def _ensure_sqlite_parent(url: URL) -> None:
    """Create the directory of a SQLite file database if it is missing."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class PoolOptions:
    """The connection pool of a PostgreSQL engine (see ``DatabaseSettings`` for the why of
    each): ``size`` kept open, ``max_overflow`` more under a burst, ``pre_ping`` before
    reuse, replaced after ``recycle_seconds`` (-1 = never), ``timeout`` seconds to wait for
    a free one."""

    size: int = 5
    max_overflow: int = 5
    pre_ping: bool = True
    recycle_seconds: int = 1800
    timeout: float = 5.0


class Database:
    """An async engine plus a session factory for one database URL.

    ``connect_timeout`` (seconds) bounds opening a connection (and, unless ``pool`` says
    otherwise, waiting for a pooled one); ``pool`` shapes PostgreSQL's connection pool;
    ``statement_timeout`` (seconds) bounds each statement: PostgreSQL's ``statement_timeout``
    on the server plus asyncpg's ``command_timeout`` on the client (which also fires when the
    server stops answering at all), and SQLite's wait for another writer's lock. Past either,
    the call raises (``TimeoutError`` or a ``sqlalchemy.exc.DBAPIError``) instead of hanging.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        echo: bool = False,
        connect_timeout: float = 5.0,
        statement_timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000,
        pool: PoolOptions | None = None,
    ) -> None:
        try:
            self.url = make_url(url)
        except Exception as exc:  # ArgumentError, ValueError: both mean a malformed URL
            raise DatabaseError(f"invalid database URL {url!r}: {exc}") from exc
        if self.url.get_backend_name() == "sqlite":
            _ensure_sqlite_parent(self.url)
        self._echo = echo
        self._connect_timeout = connect_timeout
        self._pool = pool or PoolOptions(timeout=connect_timeout)
        self.engine: AsyncEngine = self._create_engine(statement_timeout)
        self._migration_engine: AsyncEngine | None = None
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer: this process's write transactions take turns here,
        # waiting at most as long as SQLite's own busy timeout would.
        self._write_lock = asyncio.Lock() if self.url.get_backend_name() == "sqlite" else None
        self._write_wait = statement_timeout

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        """The database ``settings`` describe (URL, echo and timeouts)."""
        return cls(
            settings.url,
            echo=settings.echo,
            connect_timeout=settings.connect_timeout_seconds,
            statement_timeout=settings.statement_timeout_seconds,
            pool=PoolOptions(
                size=settings.pool_size,
                max_overflow=settings.max_overflow,
                pre_ping=settings.pool_pre_ping,
                recycle_seconds=settings.pool_recycle_seconds,
                timeout=settings.pool_timeout_seconds,
            ),
        )

    def _create_engine(self, statement_timeout: float | None) -> AsyncEngine:
        """An engine on ``self.url``; ``statement_timeout`` ``None``: statements may run long."""
        options: dict[str, Any] = {"echo": self._echo, "json_serializer": _json_dumps}
        backend = self.url.get_backend_name()
        busy_ms = SQLITE_BUSY_TIMEOUT_MS
        if backend == "sqlite" and statement_timeout is not None:
            busy_ms = round(statement_timeout * 1000)
            options["connect_args"] = {"timeout": statement_timeout}
        elif backend == "postgresql":
            # SQLite keeps SQLAlchemy's own choice of pool; these apply to PostgreSQL only.
            options["pool_size"] = self._pool.size
            options["max_overflow"] = self._pool.max_overflow
            options["pool_pre_ping"] = self._pool.pre_ping
            options["pool_recycle"] = self._pool.recycle_seconds
            options["pool_timeout"] = self._pool.timeout
            connect_args: dict[str, Any] = {"timeout": self._connect_timeout}
            if statement_timeout is not None:
                # The server cancels a slow statement; the client gives up on a silent server.
                milliseconds = str(round(statement_timeout * 1000))
                connect_args["command_timeout"] = statement_timeout
                connect_args["server_settings"] = {"statement_timeout": milliseconds}
            options["connect_args"] = connect_args
        engine = create_async_engine(self.url, **options)
        if backend == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_on_connect(busy_ms))
        return engine

    @property
    def migration_engine(self) -> AsyncEngine:
        """The engine migrations run on: no statement timeout, since waiting for another
        worker's migration lock, or rewriting a large table, may take longer than any request
        should (created on first use)."""
        if self._migration_engine is None:
            self._migration_engine = self._create_engine(None)
        return self._migration_engine

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A new ORM session for reading (:meth:`transaction` for writing)."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A new ORM session in a transaction: committed when the block ends, rolled back
        when it raises.

        On SQLite this process's transactions take turns (an ``asyncio.Lock``, waited for
        at most ``statement_timeout`` seconds, then ``TimeoutError``). SQLite lets one
        connection write at a time, and a connection that finds the database locked
        sleeps in SQLite's busy handler (steps of up to 100 ms) instead of queueing: with
        16 bench learners on 2 cores an Urdu turn's ``overhead`` reached 460 ms at p95
        that way (docs/BENCHMARKS.md, "Cheaper second opinions, and the store under
        load"). Other processes on the same file still meet the busy timeout.
        PostgreSQL's writers run side by side."""
        async with self._write_turn(), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        """Hold this process's SQLite write turn for the body (nothing on PostgreSQL)."""
        lock = self._write_lock
        if lock is None:
            yield
            return
        async with asyncio.timeout(self._write_wait):
            await lock.acquire()
        try:
            yield
        finally:
            lock.release()

    async def migrate(self) -> None:
        """Upgrade the schema to the newest packaged revision (a no-op when already there).

        The migration connection is closed afterwards rather than kept idle in its pool, so a
        worker holds only its request pool (``DatabaseSettings.pool_size``) once started."""
        try:
            await self.run_alembic(lambda config: command.upgrade(config, "head"))
        finally:
            await self.migration_engine.dispose()

    async def run_alembic(self, operation: Callable[[Config], object]) -> None:
        """Run ``operation(config)`` (an Alembic command) on this engine, in one transaction.

        The transaction holds the migration lock (see the module docstring), so the
        operation sees a schema no other worker is changing.
        """
        async with self.migration_connection() as connection:

            def run(sync_connection: Connection) -> None:
                operation(alembic_config(self.url, connection=sync_connection))

            await connection.run_sync(run)

    @asynccontextmanager
    async def migration_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection of ``migration_engine`` in a transaction that holds the migration lock
        until it ends."""
        async with self.migration_engine.begin() as connection:
            if self.dialect_name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            elif self.dialect_name == "sqlite":
                # The driver opens no transaction before DDL by itself; take the write lock now.
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._migration_engine is not None:
            await self._migration_engine.dispose()
