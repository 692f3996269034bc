"""Writes the outbox may repeat store once, at the learner's times; a slow or silent
database makes a call fail within the configured timeouts instead of hanging."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.store.conftest import POSTGRES_DSN, fresh_postgres_url
from tests.store.proxy import PausableProxy, upstream_of
from ustad.store.database import Database
from ustad.store.models import Cycle, Learner, Session
from ustad.store.repository import Repository
from ustad.vocabulary import CycleStatus

WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HANG_GUARD = 60.0
"""Seconds after which a test that should already have finished fails instead of hanging."""


async def _count(database: Database, model: type[object]) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("learner", ["learner-7", None])
async def test_opening_a_session_twice_stores_it_once(
    repository: Repository, database: Database, learner: str | None
) -> None:
    ref = uuid.uuid4().hex
    first = await repository.open_session(ref, learner, "english", WHEN)
    again = await repository.open_session(ref, learner, "english", WHEN + timedelta(minutes=5))
    assert first == again == await repository.session_by_ref(ref)
    assert await _count(database, Session) == 1
    assert await _count(database, Learner) == 1
    async with database.session() as session:
        row = await session.get(Session, first)
    assert row is not None and row.started_at == WHEN and row.language_mode == "english"


async def test_a_cycle_started_twice_is_stored_once_at_its_own_time(
    repository: Repository, database: Database
) -> None:
    session_id = await repository.open_session(uuid.uuid4().hex, None, "urdu", WHEN)
    ref = uuid.uuid4().hex
    later = WHEN + timedelta(seconds=30)
    first = await repository.start_cycle(
        session_id, "اردو", "English", "memory", None, client_ref=ref, started_at=later
    )
    again = await repository.start_cycle(
        session_id, "اردو", "English", "memory", None, client_ref=ref, started_at=later
    )
    assert first == again == await repository.cycle_by_ref(ref)
    assert await _count(database, Cycle) == 1
    ended = later + timedelta(seconds=40)
    await repository.finish_cycle(first, CycleStatus.PASSED, ended)
    await repository.finish_cycle(first, CycleStatus.ABANDONED, ended + timedelta(hours=1))
    await repository.end_session(session_id, ended + timedelta(seconds=5))
    await repository.end_session(session_id, ended + timedelta(hours=2))
    async with database.session() as session:
        cycle = await session.get(Cycle, first)
        row = await session.get(Session, session_id)
    assert cycle is not None and row is not None
    assert (cycle.started_at, cycle.status, cycle.ended_at) == (later, "passed", ended)
    assert row.ended_at == ended + timedelta(seconds=5)


async def test_unknown_references_are_none(repository: Repository) -> None:
    assert await repository.session_by_ref("nothing") is None
    assert await repository.cycle_by_ref("nothing") is None


@pytest.fixture
async def proxy() -> AsyncIterator[PausableProxy]:
    running = PausableProxy(*upstream_of(POSTGRES_DSN))
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest.mark.postgres
async def test_a_slow_statement_fails_at_the_statement_timeout() -> None:
    async with fresh_postgres_url() as url:
        database = Database(url, statement_timeout=0.2)
        try:
            async with asyncio.timeout(HANG_GUARD):
                # The client's command timeout and the server's statement timeout are equal:
                # whichever fires first ends the call.
                with pytest.raises((TimeoutError, DBAPIError)):
                    async with database.session() as session:
                        await session.execute(text("SELECT pg_sleep(30)"))
        finally:
            await database.close()


@pytest.mark.postgres
async def test_a_silent_server_fails_connect_and_statements(proxy: PausableProxy) -> None:
    async with fresh_postgres_url() as url:
        database = Database(proxy.url(url), connect_timeout=0.3, statement_timeout=0.3)
        await database.migrate()
        repository = Repository(database)
        try:
            async with asyncio.timeout(HANG_GUARD):
                await repository.open_session("before", None, "urdu", WHEN)
                proxy.hang()
                # A pooled connection that stops answering, then a new one that never opens.
                with pytest.raises((TimeoutError, DBAPIError)):
                    await repository.open_session("during", None, "urdu", WHEN)
                with pytest.raises((TimeoutError, DBAPIError)):
                    await repository.open_session("during", None, "urdu", WHEN)
                proxy.resume()
                assert await repository.open_session("after", None, "urdu", WHEN) > 0
        finally:
            proxy.resume()
            await database.close()
