"""PostgreSQL goes away mid-session, first refusing connections and then hanging: replies
keep coming, new learners get in, /health says ``degraded`` at once, and every turn a
reply named is in the database after it comes back (through the outbox).

The database sits behind ``PausableProxy`` (the shared server is never touched). The test
waits on replies and on the outbox emptying; ``HANG_GUARD`` only turns a hang into a
failure. Reply times under the hang are printed (``-s``) for the record, not asserted.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.conftest import RunningApp, Script, connect, fake_services_factory, make_settings
from tests.api.conftest import serve as serve_app
from tests.store.conftest import POSTGRES_DSN, fresh_postgres_url
from tests.store.proxy import PausableProxy, upstream_of
from ustad.app import create_app
from ustad.database_settings import DatabaseSettings
from ustad.store.database import Database
from ustad.store.models import Cycle, Session, Turn

pytestmark = pytest.mark.postgres

HANG_GUARD = 90.0


@pytest.fixture
async def proxy() -> AsyncIterator[PausableProxy]:
    running = PausableProxy(*upstream_of(POSTGRES_DSN))
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_url() as url:
        database = Database(url)
        await database.migrate()
        await database.close()
        yield url


@pytest.fixture
def outage_app(tmp_path: Path, proxy: PausableProxy, postgres_url: str) -> Iterator[RunningApp]:
    settings = make_settings(tmp_path)
    db = DatabaseSettings(
        url=proxy.url(postgres_url),
        migrate_on_start=False,
        connect_timeout_seconds=0.5,
        statement_timeout_seconds=1.0,
        store_timeout_seconds=0.5,
        health_timeout_seconds=0.5,
        outbox_dir=tmp_path / "outbox",
        outbox_retry_max_seconds=0.5,
    )
    settings = settings.model_copy(update={"db": db})
    script = Script()
    app = create_app(settings, services_factory=fake_services_factory(script))
    with serve_app(app, settings) as address:
        yield RunningApp(address, settings, script)


async def _turn(client: Any, audio: bytes, mode: str | None = None) -> tuple[str, float]:
    """Say ``audio``; the reply's ``turn_id`` and how long it took (seconds)."""
    started = time.perf_counter()
    await client.say(audio, mode)
    reply = await client.receive(HANG_GUARD)
    return reply.data["turn_id"], time.perf_counter() - started


async def _drained(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(HANG_GUARD):
        # The outbox lives in the server's thread: its emptying is seen through /v1/stats.
        while (await http.get("/v1/stats")).json()["outbox"]["pending"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def _journaled(http: httpx.AsyncClient, appended: int) -> None:
    """Wait until the outbox has taken more entries than ``appended``."""
    async with asyncio.timeout(HANG_GUARD):
        while (await http.get("/v1/stats")).json()["outbox"]["appended_total"] <= appended:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def _health(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/health")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_no_turn_is_lost_while_postgres_is_down_then_hung(
    outage_app: RunningApp,
    proxy: PausableProxy,
    postgres_url: str,
    urdu_audio: bytes,
    english_audio: bytes,
) -> None:
    sent: list[str] = []
    timings: dict[str, list[float]] = {"up": [], "down": [], "hung": []}
    address = outage_app.address
    async with (
        httpx.AsyncClient(base_url=f"http://{address}", timeout=HANG_GUARD) as http,
        connect(address, f"?learner_id={uuid.uuid4()}") as learner,
    ):
        turn_id, took = await _turn(learner, urdu_audio, "english")
        sent.append(turn_id)
        timings["up"].append(took)
        assert (await _health(http))["database"] == "ok"

        proxy.refuse()  # PostgreSQL stopped
        await learner.ack("you_said_complete")
        await learner.receive(HANG_GUARD)
        await learner.ack("word_by_word_complete")
        await learner.receive(HANG_GUARD)
        outage_app.script.english = "elephants"
        outage_app.script.language = ("en", 0.99)  # a failed repeat, not a new Urdu sentence
        turn_id, took = await _turn(learner, english_audio)
        sent.append(turn_id)
        timings["down"].append(took)
        outage_app.script.language = ("ur", 0.9)
        async with connect(address, f"?learner_id={uuid.uuid4()}") as newcomer:
            turn_id, took = await _turn(newcomer, urdu_audio)  # a new session while down
            sent.append(turn_id)
            timings["down"].append(took)
        health = await _health(http)
        assert health["status"] == health["database"] == "degraded"
        assert health["outbox"]["pending"] > 0

        proxy.hang()  # PostgreSQL frozen: connections open, nothing answers
        await learner.ack("feedback_complete")
        await learner.receive(HANG_GUARD)
        await learner.ack("word_by_word_complete")
        await learner.receive(HANG_GUARD)
        outage_app.script.english = "I want water"
        outage_app.script.language = ("en", 0.99)
        turn_id, took = await _turn(learner, english_audio)
        sent.append(turn_id)
        timings["hung"].append(took)
        started = time.perf_counter()
        assert (await _health(http))["database"] == "degraded"
        health_seconds = time.perf_counter() - started

        proxy.resume()
        recovered = time.perf_counter()
        await _drained(http)
        drained_seconds = time.perf_counter() - recovered

        # Frozen again with nothing queued: this turn's write tries the database first and
        # is given up on after store_timeout_seconds (once it waited 55 s in ``store``).
        # The cycle passed, so this is the next Urdu sentence, whose reply does not wait
        # for its writes: the database stays frozen until they are journaled.
        outage_app.script.language = ("ur", 0.9)
        appended = (await http.get("/v1/stats")).json()["outbox"]["appended_total"]
        proxy.hang()
        turn_id, took = await _turn(learner, urdu_audio)
        sent.append(turn_id)
        timings["hung, nothing queued"] = [took]
        await _journaled(http, appended)
        proxy.resume()
        await _drained(http)
        stats = (await http.get("/v1/stats")).json()["outbox"]
        metrics = (await http.get("/metrics")).text
    print(
        f"\nreply seconds {timings}; /health while hung {health_seconds:.2f} s; "
        f"outbox stored {drained_seconds:.2f} s after recovery; {stats}"
    )
    assert stats["failed_total"] == stats["lost_total"] == 0
    assert stats["replayed_total"] == stats["appended_total"] > 0
    assert "ustad_outbox_pending 0.0" in metrics

    database = Database(postgres_url)
    try:
        # The learner's session ends as its socket closes, and that write runs after the
        # close: wait for it (bounded) rather than race it on a loaded machine.
        for _ in range(100):
            async with database.session() as session:
                stored = set(await session.scalars(select(Turn.turn_id)))
                sessions = await session.scalar(select(func.count()).select_from(Session))
                statuses = sorted(await session.scalars(select(Cycle.status)))
            if "active" not in statuses:
                break
            await asyncio.sleep(0.1)
    finally:
        await database.close()
    assert stored == set(sent) and len(sent) == 5
    assert sessions == 2
    # The newcomer's cycle ended with its session; the last one with the learner's.
    assert statuses == ["abandoned", "abandoned", "passed"]
