"""Store fixtures: every test runs on SQLite (a temp file) and on PostgreSQL.

Each PostgreSQL test gets its own new database ``ustad_test_<random>``, created from the
``postgres`` maintenance database and dropped afterwards, so parallel runs and reruns
never see each other's data. ``USTAD_TEST_POSTGRES`` overrides the server DSN.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

from ustad.store.database import Database
from ustad.store.repository import Repository

POSTGRES_DSN = os.environ.get(
    "USTAD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_DSN, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        error = exc
    pytest.fail(
        f"PostgreSQL is not reachable at {POSTGRES_DSN} ({error!r}). Start it (CI does), "
        "set USTAD_TEST_POSTGRES, or deselect these tests with -m 'not postgres'.",
        pytrace=False,
    )


@asynccontextmanager
async def fresh_postgres_url() -> AsyncIterator[str]:
    """A SQLAlchemy URL to a new, empty PostgreSQL database, dropped on exit."""
    name = f"ustad_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(POSTGRES_DSN).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await _admin_connection()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL to a database with no tables yet, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'ustad.db'}"
    else:
        async with fresh_postgres_url() as url:
            yield url


@pytest.fixture
async def database(empty_url: str) -> AsyncIterator[Database]:
    """A migrated database."""
    db = Database(empty_url)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def repository(database: Database) -> Repository:
    return Repository(database)


@pytest.fixture
async def postgres_database() -> AsyncIterator[Database]:
    """A migrated PostgreSQL database (for tests of PostgreSQL-only behaviour)."""
    async with fresh_postgres_url() as url:
        db = Database(url)
        await db.migrate()
        try:
            yield db
        finally:
            await db.close()
