"""Database: engine set-up per backend, sessions, and migrating under a lock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

import ustad.store
from tests.store.conftest import POSTGRES_DSN, fresh_postgres_url
from ustad.database_settings import DatabaseSettings
from ustad.store.database import Database, DatabaseError
from ustad.store.models import Learner

TABLES = {"alembic_version", "learners", "sessions", "cycles", "turns"}

MIGRATIONS = Path(ustad.store.__file__).parent / "migrations" / "versions"
HEAD = max(path.name[:4] for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
"""The newest migration's revision (revisions are the files' four-digit prefixes)."""


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_default_relative_sqlite_path_gets_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database("sqlite+aiosqlite:///var/ustad.db")
    try:
        await db.migrate()
    finally:
        await db.close()
    assert (tmp_path / "var" / "ustad.db").is_file()


async def test_nested_sqlite_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ustad.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate()
        assert await _tables(db) == TABLES
    finally:
        await db.close()
    assert path.is_file()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'ustad.db'}")
    try:
        async with db.engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
    finally:
        await db.close()
    assert journal == "wal"
    assert foreign_keys == 1


def test_malformed_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="invalid database URL"):
        Database("not a url")


async def test_foreign_keys_are_enforced(database: Database) -> None:
    async with database.engine.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(
                text(
                    "INSERT INTO sessions (learner_id, language_mode, started_at) "
                    "VALUES (424242, 'urdu', CURRENT_TIMESTAMP)"
                )
            )


async def test_session_commits_and_reads_back(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add(Learner(external_id="d-1"))
    async with database.session() as session:
        learner = await session.scalar(select(Learner).where(Learner.external_id == "d-1"))
    assert learner is not None
    assert learner.created_at.utcoffset() == timedelta(0)


async def test_writers_on_sqlite_take_turns_and_on_postgres_run_side_by_side(
    database: Database,
) -> None:
    inside = most = 0

    async def write(n: int) -> None:
        nonlocal inside, most
        async with database.transaction() as session:
            inside += 1
            most = max(most, inside)
            session.add(Learner(external_id=f"w-{n}"))
            await session.flush()
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(write(n) for n in range(8)))
    async with database.session() as session:
        query = select(Learner).where(Learner.external_id.like("w-%"))
        stored = (await session.scalars(query)).all()
    assert len(stored) == 8
    # SQLite has one writer: a second connection would sleep in its busy handler.
    assert most == 1 if database.dialect_name == "sqlite" else most > 1


async def test_a_sqlite_writer_waits_its_turn_no_longer_than_the_statement_timeout(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", statement_timeout=0.1)
    await db.migrate()
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction():
            entered.set()
            await release.wait()

    async def write() -> None:
        async with db.transaction() as session:
            session.add(Learner(external_id="t-1"))

    try:
        holder = asyncio.create_task(hold())
        await entered.wait()
        with pytest.raises(TimeoutError):
            await write()  # a stalled writer holds the turn: give up, as SQLite would
        release.set()
        await holder
        await write()
    finally:
        await db.close()


async def test_a_transaction_that_raises_stores_nothing(database: Database) -> None:
    async def fail() -> None:
        async with database.transaction() as session:
            session.add(Learner(external_id="r-1"))
            await session.flush()
            raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        await fail()
    async with database.session() as session:
        assert await session.scalar(select(Learner).where(Learner.external_id == "r-1")) is None
    async with database.transaction() as session:  # the lock was released
        session.add(Learner(external_id="r-2"))


async def test_concurrent_migrations_from_two_engines_both_succeed(empty_url: str) -> None:
    # Two engines in one process migrating at once. Alembic's migration context is
    # process-wide and the schema is shared, so only the migration lock keeps them apart
    # (test_migrations covers two processes).
    first, second = Database(empty_url), Database(empty_url)
    try:
        # return_exceptions: both calls finish before the engines close, even if one fails.
        outcomes = await asyncio.wait_for(
            asyncio.gather(first.migrate(), second.migrate(), return_exceptions=True), 60
        )
        assert [o for o in outcomes if o is not None] == []
        assert await _tables(first) == TABLES
        async with first.engine.connect() as connection:
            versions = (
                await connection.scalars(text("SELECT version_num FROM alembic_version"))
            ).all()
        assert versions == [HEAD]
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_postgres_replaces_a_connection_the_server_closed(
    postgres_database: Database,
) -> None:
    database = postgres_database
    async with database.engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    # The pooled connection is now idle; the server (or a proxy) drops it.
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    async with database.engine.connect() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1


@pytest.mark.postgres
async def test_postgres_pool_holds_at_most_size_plus_overflow_connections() -> None:
    settings = DatabaseSettings(pool_size=2, max_overflow=1, pool_timeout_seconds=0.5)
    async with fresh_postgres_url() as url:
        database = Database.from_settings(settings.model_copy(update={"url": url}))
        try:
            held = [await database.engine.connect() for _ in range(3)]
            # A fourth checkout waits for a free connection, then fails instead of hanging.
            with pytest.raises(PoolTimeout):
                await database.engine.connect()
            for connection in held:
                await connection.close()
            # Returned, the overflow connection is closed; the pool keeps its size.
            assert database.engine.pool.checkedin() == 2  # type: ignore[attr-defined]
        finally:
            await database.close()


async def test_sqlite_keeps_its_own_pool(tmp_path: Path) -> None:
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'u.db'}", pool_size=1)
    database = Database.from_settings(settings)
    try:
        # Five sessions at once on a pool of one would wait; SQLite's pool is not bounded so.
        async def one() -> int | None:
            async with database.engine.connect() as connection:
                await asyncio.sleep(0)
                return await connection.scalar(text("SELECT 1"))

        assert await asyncio.wait_for(asyncio.gather(*(one() for _ in range(5))), 30) == [1] * 5
    finally:
        await database.close()


async def test_migrating_leaves_no_migration_connection_open(empty_url: str) -> None:
    database = Database(empty_url)
    try:
        await database.migrate()
        # Kept idle, it would count against PostgreSQL's max_connections per worker.
        assert database.migration_engine.pool.checkedin() == 0  # type: ignore[attr-defined]
        await database.migrate()  # the engine still works after its pool was emptied
    finally:
        await database.close()
