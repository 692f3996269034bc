"""Resuming /ws/learn after a dropped connection: in one process, across two workers
that share Redis, and every way a resume can fail (fake recognisers, real transport,
storage and Redis)."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import websockets
from pydantic import SecretStr
from sqlalchemy import select

from tests.api.conftest import (
    LearnClient,
    Message,
    RunningApp,
    Script,
    connect,
    fake_services_factory,
    make_settings,
    serve,
)
from tests.api.test_learn_socket import wav_bytes
from ustad.app import create_app
from ustad.database_settings import DatabaseSettings
from ustad.redis_settings import RedisSettings
from ustad.runtime.redis_client import redis_from_settings
from ustad.runtime.resume_store import MemoryResumeStore, new_token
from ustad.services import Services
from ustad.settings import AuthSettings, Settings
from ustad.store.database import Database
from ustad.store.models import Cycle, Session, Turn

LEARNER_1 = "3a1d6c2e-0f4b-4b8e-9d7c-1e2f3a4b5c6d"
LEARNER_2 = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
REDIS_URL = "redis://127.0.0.1:6379/15"


async def started_cycle(client: LearnClient, urdu_audio: bytes) -> Message:
    """Say the Urdu sentence; the ``you_said_audio`` reply."""
    await client.say(urdu_audio, "english")
    you_said = await client.receive()
    assert you_said.step == "you_said_audio"
    return you_said


async def finish_cycle(client: LearnClient, english_audio: bytes) -> None:
    """From ``you_said_audio`` to a passed ``await_next``."""
    await client.ack("you_said_complete")
    assert (await client.receive()).step == "repeat_prompt"
    await client.ack("word_by_word_complete")
    assert (await client.receive()).step == "full_sentence_audio"
    await client.say(english_audio)
    done = await client.receive()
    assert done.step == "await_next" and done.data["is_true"] is True


async def resumed(client: LearnClient, old_token: str) -> Message:
    """The ``session`` message of a resumed connection (with a new token)."""
    first = await client.receive()
    assert first.step == "session" and first.audio is None
    assert first.data["resumed"] is True, first.data
    assert first.data["resume_token"] != old_token
    return first


async def stored(url: str) -> tuple[list[Session], list[Cycle], list[Turn]]:
    database = Database(url)
    try:
        async with database.session() as db:
            sessions = list((await db.scalars(select(Session))).all())
            cycles = list((await db.scalars(select(Cycle))).all())
            turns = list((await db.scalars(select(Turn))).all())
        return sessions, cycles, turns
    finally:
        await database.close()


async def settled(url: str, check: Any) -> tuple[list[Session], list[Cycle], list[Turn]]:
    """The stored rows once ``check(rows)`` holds (the server closes sessions after the
    client has left, so the last writes land a moment later)."""
    for _ in range(100):
        rows = await stored(url)
        if check(rows):
            return rows
        await asyncio.sleep(0.05)
    return await stored(url)


def one_passed_cycle(rows: tuple[list[Session], list[Cycle], list[Turn]]) -> bool:
    sessions, cycles, _ = rows
    return (
        len(sessions) == 1
        and sessions[0].ended_at is not None
        and [c.status for c in cycles] == ["passed"]
    )


async def test_a_dropped_session_resumes_after_you_said_and_is_stored_once(
    fake_app: RunningApp, urdu_audio: bytes, english_audio: bytes
) -> None:
    query = f"?learner_id={LEARNER_1}"
    async with connect(fake_app.address, query) as client:
        you_said = await started_cycle(client, urdu_audio)
        token = you_said.data["resume_token"]
        assert len(token) == 43
    # The connection dropped before the learner acknowledged the audio.
    async with connect(fake_app.address, f"{query}&resume_token={token}") as client:
        first = await resumed(client, token)
        again = await client.receive()
        assert again.step == "you_said_audio" and again.audio
        assert again.data["english_sentence"] == "I want water."
        assert again.data["urdu_sentence"] == "مجھے پانی چاہیے"
        assert "turn_id" not in again.data  # nothing was said: not a turn
        assert again.data["resume_token"] == first.data["resume_token"]
        await finish_cycle(client, english_audio)
    sessions, cycles, turns = await settled(fake_app.settings.db.url, one_passed_cycle)
    assert len(sessions) == 1 and sessions[0].ended_at is not None
    assert [c.status for c in cycles] == ["passed"] and cycles[0].attempts == 1
    assert sorted(t.step for t in turns) == ["await_next", "you_said_audio"]
    assert {t.session_id for t in turns} == {sessions[0].id}
    assert {t.cycle_id for t in turns} == {cycles[0].id}


async def test_a_token_is_spent_once_and_the_later_connection_wins(
    fake_app: RunningApp, urdu_audio: bytes
) -> None:
    query = f"?learner_id={LEARNER_1}"
    async with connect(fake_app.address, query) as first:
        token = (await started_cycle(first, urdu_audio)).data["resume_token"]
        async with connect(fake_app.address, f"{query}&resume_token={token}") as second:
            await resumed(second, token)
            assert (await second.receive()).step == "you_said_audio"
            # The first connection may not drive the session any more.
            await first.ack("you_said_complete")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await first.receive(limit=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
            await second.ack("you_said_complete")
            assert (await second.receive()).step == "repeat_prompt"
        # The spent token resumes nothing.
        async with connect(fake_app.address, f"{query}&resume_token={token}") as third:
            message = (await third.receive()).data
            assert message["resumed"] is False and message["reason"] == "unknown"
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}") as http:
        stats = (await http.get("/v1/stats")).json()
    assert stats["session_resumes"] == {"resumed": 1, "unknown": 1}
    assert stats["sessions_ended"] == {"superseded": 1}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("x" * 5000, "malformed"),
        ("not+a%2Ftoken" + "a" * 30, "malformed"),
        ("", "malformed"),
        (None, "unknown"),  # well formed, never issued
    ],
)
async def test_a_failed_resume_is_a_new_session_said_politely(
    fake_app: RunningApp, urdu_audio: bytes, token: str | None, reason: str
) -> None:
    presented = new_token() if token is None else token
    query = f"?learner_id={LEARNER_1}&resume_token={presented}"
    async with connect(fake_app.address, query) as client:
        first = (await client.receive()).data
        assert first["step"] == "session" and first["resumed"] is False
        assert first["reason"] == reason and len(first["resume_token"]) == 43
        await started_cycle(client, urdu_audio)


async def test_another_learners_token_starts_a_new_session(
    fake_app: RunningApp, urdu_audio: bytes
) -> None:
    async with connect(fake_app.address, f"?learner_id={LEARNER_1}") as client:
        token = (await started_cycle(client, urdu_audio)).data["resume_token"]
    query = f"?learner_id={LEARNER_2}&resume_token={token}"
    async with connect(fake_app.address, query) as client:
        first = (await client.receive()).data
        assert first["resumed"] is False and first["reason"] == "unknown"
        assert await client.nothing_pending()


async def test_a_drop_during_a_turn_resumes_after_that_turn(
    fake_app: RunningApp, urdu_audio: bytes, english_audio: bytes
) -> None:
    """The learner spoke, the connection dropped while the server was still answering,
    and the client came back at once: it is resumed after that turn, not before it."""
    silence = wav_bytes(np.zeros(16_000))
    query = f"?learner_id={LEARNER_1}"
    script = fake_app.script
    script.hold = threading.Event()
    try:
        async with connect(fake_app.address, query) as client:
            await client.say(silence, "english")
            quiet = await client.receive()
            assert quiet.step == "no_speech"
            token = quiet.data["resume_token"]
            await client.say(urdu_audio, "english")
            assert await asyncio.to_thread(script.started.wait, 60)
        # Gone while the Urdu sentence is being recognised; back with the token.
        async with connect(fake_app.address, f"{query}&resume_token={token}") as client:
            script.hold.set()
            await resumed(client, token)
            again = await client.receive()
            assert again.step == "you_said_audio" and "turn_id" not in again.data
            await finish_cycle(client, english_audio)
    finally:
        script.hold.set()
    sessions, cycles, turns = await settled(fake_app.settings.db.url, one_passed_cycle)
    assert len(sessions) == 1 and [c.status for c in cycles] == ["passed"]
    assert sorted(t.step for t in turns) == ["await_next", "no_speech", "you_said_audio"]


async def no_session_open(address: str) -> None:
    """Return once the server has closed every session (and parked its last state)."""
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        for _ in range(200):
            if (await http.get("/v1/stats")).json()["sessions_active"] == 0:
                return
            await asyncio.sleep(0.05)
    pytest.fail("a session stayed open")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_expired_token_starts_a_new_session(
    fake_app: RunningApp, urdu_audio: bytes
) -> None:
    clock = Clock()
    assert fake_app.app is not None
    fake_app.app.state.resume_store = MemoryResumeStore(ttl=60, max_entries=100, clock=clock)
    async with connect(fake_app.address, f"?learner_id={LEARNER_1}") as client:
        token = (await started_cycle(client, urdu_audio)).data["resume_token"]
    await no_session_open(fake_app.address)  # its last state is parked
    clock.now = 61  # a minute past the connection's last message
    query = f"?learner_id={LEARNER_1}&resume_token={token}"
    async with connect(fake_app.address, query) as client:
        first = (await client.receive()).data
        assert first["resumed"] is False and first["reason"] == "unknown"


# --- two workers sharing Redis and PostgreSQL ------------------------------------------


def redis_factory(script: Script) -> Any:
    """The fake services, plus the worker's Redis client as ``build_services`` makes it."""
    build = fake_services_factory(script)

    async def with_redis(settings: Settings) -> Services:
        services: Services = await build(settings)
        services.redis = redis_from_settings(settings.redis)
        return services

    return with_redis


@asynccontextmanager
async def worker_pair(
    tmp_path: Path, db_url: str, redis_url: str, prefix: str
) -> AsyncIterator[tuple[str, str]]:
    """Two served apps (two workers) on one database and one Redis."""
    addresses = []
    with _Stack() as stack:
        for name in ("a", "b"):
            settings = make_settings(tmp_path / name).model_copy(
                update={
                    "db": DatabaseSettings(url=db_url, outbox_dir=tmp_path / name / "outbox"),
                    "redis": RedisSettings(url=SecretStr(redis_url), key_prefix=prefix),
                }
            )
            app = create_app(settings, services_factory=redis_factory(Script()))
            addresses.append(stack.enter(serve(app, settings)))
        yield addresses[0], addresses[1]


class _Stack:
    """Enter context managers, leave them in reverse order."""

    def __init__(self) -> None:
        self.exits: list[Iterator[str]] = []

    def enter(self, manager: Any) -> str:
        self.exits.append(manager)
        return str(manager.__enter__())

    def __enter__(self) -> _Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        for manager in reversed(self.exits):
            manager.__exit__(None, None, None)  # type: ignore[attr-defined]


async def _delete_prefix(prefix: str) -> None:
    client = redis_from_settings(RedisSettings(url=SecretStr(REDIS_URL)))
    assert client is not None
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.mark.postgres
async def test_a_session_started_on_one_worker_finishes_on_another(
    tmp_path: Path, urdu_audio: bytes, english_audio: bytes
) -> None:
    from tests.store.conftest import fresh_postgres_url

    prefix = f"ustad-test-{uuid.uuid4().hex}:"
    async with fresh_postgres_url() as db_url:
        database = Database(db_url)
        await database.migrate()
        await database.close()
        try:
            async with worker_pair(tmp_path, db_url, REDIS_URL, prefix) as (a, b):
                query = f"?learner_id={LEARNER_1}"
                async with connect(a, query) as client:
                    token = (await started_cycle(client, urdu_audio)).data["resume_token"]
                async with connect(b, f"{query}&resume_token={token}") as client:
                    await resumed(client, token)
                    assert (await client.receive()).step == "you_said_audio"
                    await finish_cycle(client, english_audio)
                sessions, cycles, turns = await settled(db_url, one_passed_cycle)
        finally:
            await _delete_prefix(prefix)
    assert len(sessions) == 1 and [c.status for c in cycles] == ["passed"]
    assert sorted(t.step for t in turns) == ["await_next", "you_said_audio"]


async def test_a_redis_that_is_down_means_a_new_session_politely(
    tmp_path: Path, urdu_audio: bytes
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(tmp_path).model_copy(
        update={
            "redis": RedisSettings(
                url=SecretStr(f"redis://127.0.0.1:{port}/15"), socket_timeout_seconds=0.2
            )
        }
    )
    app = create_app(settings, services_factory=redis_factory(Script()))
    with serve(app, settings) as address:
        query = f"?learner_id={LEARNER_1}&resume_token={new_token()}"
        async with connect(address, query) as client:
            first = (await client.receive()).data
            assert first["resumed"] is False and first["reason"] == "unavailable"
            # The lesson goes on without the shared tier.
            you_said = await started_cycle(client, urdu_audio)
            assert len(you_said.data["resume_token"]) == 43


async def test_with_learner_tokens_only_the_same_learner_resumes(
    tmp_path: Path, urdu_audio: bytes
) -> None:
    from tests.api.test_access import SECRET, running, token

    auth = AuthSettings(jwt_secret=SecretStr(SECRET))
    for served in running(tmp_path, auth=auth):
        async with connect(served.address, f"?token={token(LEARNER_1)}") as client:
            resume = (await started_cycle(client, urdu_audio)).data["resume_token"]
        # Another learner holding the token gets a new session, told as for any unknown one.
        async with connect(
            served.address, f"?token={token(LEARNER_2)}&resume_token={resume}"
        ) as client:
            first = (await client.receive()).data
            assert first["resumed"] is False and first["reason"] == "unknown"
        async with connect(served.address, f"?token={token(LEARNER_1)}") as client:
            resume = (await started_cycle(client, urdu_audio)).data["resume_token"]
        async with connect(
            served.address, f"?token={token(LEARNER_1)}&resume_token={resume}"
        ) as client:
            await resumed(client, resume)
            assert (await client.receive()).step == "you_said_audio"


async def test_a_redis_that_hangs_during_the_resume_means_a_new_session_politely(
    tmp_path: Path, urdu_audio: bytes
) -> None:
    from tests.store.proxy import PausableProxy

    proxy = PausableProxy("127.0.0.1", 6379)
    await proxy.start()
    prefix = f"ustad-test-{uuid.uuid4().hex}:"
    redis = RedisSettings(
        url=SecretStr(f"redis://127.0.0.1:{proxy.port}/15"),
        key_prefix=prefix,
        socket_timeout_seconds=0.3,
    )
    settings = make_settings(tmp_path).model_copy(update={"redis": redis})
    app = create_app(settings, services_factory=redis_factory(Script()))
    try:
        with serve(app, settings) as address:
            query = f"?learner_id={LEARNER_1}"
            async with connect(address, query) as client:
                token = (await started_cycle(client, urdu_audio)).data["resume_token"]
            proxy.hang()  # Redis frozen: connections open, nothing answers
            async with connect(address, f"{query}&resume_token={token}") as client:
                first = (await client.receive()).data
                assert first["resumed"] is False and first["reason"] == "unavailable"
                # The lesson goes on while Redis stays frozen.
                you_said = await started_cycle(client, urdu_audio)
                assert len(you_said.data["resume_token"]) == 43
    finally:
        await proxy.close()
        await _delete_prefix(prefix)
