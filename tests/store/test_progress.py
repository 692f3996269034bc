"""The progress query's index: present after migrating, and chosen by PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tests.store.conftest import fresh_postgres_url
from ustad.store.database import Database
from ustad.store.progress import cycles_query

PROGRESS_INDEX = "ix_turns_cycle_id_created_at_passed"


async def test_migrating_creates_the_progress_index(database: Database) -> None:
    async with database.engine.connect() as connection:
        indexes = await connection.run_sync(lambda c: inspect(c).get_indexes("turns"))
    columns = {index["name"]: index["column_names"] for index in indexes}
    assert columns[PROGRESS_INDEX] == ["cycle_id", "created_at", "passed"]
    assert "ix_turns_cycle_id" not in columns  # replaced: the new index leads with cycle_id


# 400 learners x 3 sessions x 3 cycles x 4 turns: enough rows that a sequential scan of
# turns costs more than reading one learner's turns from an index.
FILL = """
INSERT INTO learners (id, external_id, created_at)
SELECT l, 'learner-' || l, now() FROM generate_series(1, 400) AS l;
INSERT INTO sessions (id, learner_id, language_mode, started_at)
SELECT s, (s - 1) / 3 + 1, 'urdu', now() FROM generate_series(1, 1200) AS s;
INSERT INTO cycles (id, session_id, urdu_sentence, english_sentence, provider, status,
                    attempts, started_at)
SELECT c, (c - 1) / 3 + 1, 'u', 'e' || c % 50, 'phrasebank', 'passed', 4, now()
FROM generate_series(1, 3600) AS c;
INSERT INTO turns (turn_id, session_id, cycle_id, kind, step, language_mode, timings,
                   passed, created_at)
SELECT 't' || t, ((t - 1) / 4) / 3 + 1, (t - 1) / 4 + 1, 'english', 'assessed', 'urdu',
       '{}', t % 4 = 0, now() - t * interval '1 second'
FROM generate_series(1, 14400) AS t;
"""


@pytest.mark.postgres
async def test_postgres_plans_the_progress_query_on_the_index() -> None:
    async with fresh_postgres_url() as url:
        database = Database(url)
        try:
            await database.migrate()
            # VACUUM (for the visibility map an index-only scan uses) runs outside a
            # transaction, so it goes through a plain connection.
            dsn = make_url(url).set(drivername="postgresql")
            admin = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            try:
                await admin.execute(FILL)
                await admin.execute("VACUUM ANALYZE")
            finally:
                await admin.close()
            statement = cycles_query(123).compile(
                database.engine, compile_kwargs={"literal_binds": True}
            )
            async with database.engine.connect() as connection:
                plan = "\n".join((await connection.scalars(text(f"EXPLAIN {statement}"))).all())
        finally:
            await database.close()
    assert PROGRESS_INDEX in plan, plan
    assert "Seq Scan on turns" not in plan, plan
