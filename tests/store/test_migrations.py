"""The packaged Alembic migrations: they build exactly the models' schema, repeatably."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect, select, text

from ustad.store.__main__ import next_revision_id
from ustad.store.database import MIGRATIONS_DIR, Database, alembic_config
from ustad.store.models import Base, Learner
from ustad.store.repository import Repository
from ustad.vocabulary import ErrorCode

_NOW = datetime(2026, 11, 1, tzinfo=UTC)

REPO_ROOT = Path(__file__).resolve().parents[2]
DDL_WORDS = ("CREATE", "ALTER", "DROP")


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def _version(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    return None if version is None else str(version)


async def test_upgraded_schema_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_an_empty_database_differs_from_the_models(empty_url: str) -> None:
    # Guards the test above: the comparison does see a missing schema.
    db = Database(empty_url)
    try:
        async with db.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await db.close()
    added = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert added == {"learners", "sessions", "cycles", "turns"}


async def test_migrating_again_is_a_no_op(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add(Learner(external_id="kept"))
    statements: list[str] = []

    def remember(*args: Any) -> None:
        statements.append(args[2])

    engine = database.migration_engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        await database.migrate()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    ddl = [s for s in statements if s.lstrip().upper().startswith(DDL_WORDS)]
    assert ddl == []
    assert await _version(database) == "0005"
    async with database.session() as session:
        assert await session.scalar(select(Learner.id).where(Learner.external_id == "kept"))


async def test_downgrade_to_base_and_back(database: Database) -> None:
    await database.run_alembic(lambda config: command.downgrade(config, "base"))
    async with database.engine.connect() as connection:
        left = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    assert left == {"alembic_version"}
    await database.migrate()
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


def test_scripts_form_one_numbered_line() -> None:
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == ["0005"]
    revisions = list(script.walk_revisions())
    assert all(rev.revision.isdigit() and len(rev.revision) == 4 for rev in revisions)
    assert next_revision_id(config) == "0006"


def test_config_finds_the_packaged_scripts_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script = ScriptDirectory.from_config(alembic_config())
    assert Path(script.dir) == MIGRATIONS_DIR
    assert script.get_revision("0001") is not None


async def _run(args: list[str], url: str, cwd: Path) -> tuple[int, str, str]:
    """Run a command with ``USTAD_DB__URL`` set; return its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        env={**os.environ, "USTAD_DB__URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


CLI = [sys.executable, "-m", "ustad.store"]


async def test_operator_cli_upgrades_and_reports_the_revision(
    empty_url: str, tmp_path: Path
) -> None:
    code, _, stderr = await _run([*CLI, "upgrade"], empty_url, tmp_path)
    assert code == 0, stderr
    assert "Running upgrade  -> 0001" in stderr
    code, stdout, stderr = await _run([*CLI, "current"], empty_url, tmp_path)
    assert code == 0, stderr
    assert "0005 (head)" in stdout


async def test_plain_alembic_cli_uses_its_own_engine(empty_url: str, tmp_path: Path) -> None:
    alembic = [sys.executable, "-m", "alembic", "-c", str(MIGRATIONS_DIR / "alembic.ini")]
    code, _, stderr = await _run([*alembic, "upgrade", "head"], empty_url, tmp_path)
    assert code == 0, stderr
    code, stdout, stderr = await _run([*alembic, "current"], empty_url, tmp_path)
    assert code == 0, stderr
    assert "0005 (head)" in stdout
    db = Database(empty_url)
    try:
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await db.close()


async def test_two_processes_migrating_at_once_both_succeed(empty_url: str, tmp_path: Path) -> None:
    # Two server workers starting together on an empty database: without the migration
    # lock one of them usually fails creating a table the other is creating.
    results = await asyncio.gather(
        _run([*CLI, "upgrade"], empty_url, tmp_path),
        _run([*CLI, "upgrade"], empty_url, tmp_path),
    )
    assert [code for code, _, _ in results] == [0, 0], results
    assert sum("Running upgrade  -> 0001" in stderr for _, _, stderr in results) == 1
    db = Database(empty_url)
    try:
        assert await _version(db) == "0005"
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await db.close()


async def test_old_private_error_codes_become_the_codes_clients_got(database: Database) -> None:
    """0002 rewrites ``internal`` and ``untranslatable`` rows written before issue 8."""
    await database.run_alembic(lambda config: command.downgrade(config, "0001"))
    async with database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO learners (id, created_at) VALUES (1, :now)"), {"now": _NOW}
        )
        await connection.execute(
            text(
                "INSERT INTO sessions (id, learner_id, language_mode, started_at) "
                "VALUES (1, 1, 'urdu', :now)"
            ),
            {"now": _NOW},
        )
        for number, code in enumerate(["internal", "untranslatable", "busy"]):
            await connection.execute(
                text(
                    "INSERT INTO turns (turn_id, session_id, kind, step, language_mode, "
                    "timings, error_code, created_at) "
                    "VALUES (:id, 1, 'urdu', 'error', 'urdu', '{}', :code, :now)"
                ),
                {"id": f"t{number}", "code": code, "now": _NOW},
            )
    await database.migrate()
    turns = await Repository(database).session_turns(1)
    assert [turn.error_code for turn in turns] == [
        ErrorCode.INTERNAL,
        ErrorCode.NO_VALID_AUDIO,
        ErrorCode.BUSY,
    ]


async def test_cycles_from_before_0004_keep_no_confidence(database: Database) -> None:
    """0004 adds ``cycles.confidence``; a cycle stored before it reads back ``NULL``."""
    await database.run_alembic(lambda config: command.downgrade(config, "0003"))
    async with database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO learners (id, created_at) VALUES (1, :now)"), {"now": _NOW}
        )
        await connection.execute(
            text(
                "INSERT INTO sessions (id, learner_id, language_mode, started_at) "
                "VALUES (1, 1, 'urdu', :now)"
            ),
            {"now": _NOW},
        )
        await connection.execute(
            text(
                "INSERT INTO cycles (id, session_id, urdu_sentence, english_sentence, provider, "
                "status, attempts, started_at) "
                "VALUES (1, 1, 'شکریہ', 'Thank you.', 'memory', 'active', 0, :now)"
            ),
            {"now": _NOW},
        )
    await database.migrate()
    async with database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT provider, confidence FROM cycles"))
        assert [tuple(row) for row in rows] == [("memory", None)]
