"""A learn session whose database fails or hangs: replies still go out, sessions still
open, and every turn a reply named is stored, in order, once the database is back.

The store is a real SQLite database behind ``FlakyRepository``, which fails (``down``) or
never answers (``hang``) on command. The tests wait on counts and on the outbox emptying;
the short store timeouts are the mechanism under test, and ``HANG_GUARD`` only turns a
would-be hang into a failure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.learn.conftest import Heard
from tests.learn.test_session import RecordingPort
from ustad.learn.events import Ack, AckKind, Utterance
from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.learn.recorder import TurnRecorder, new_ref
from ustad.learn.session import LearnContext, LearnSession
from ustad.learn.store_ops import StoreWriter
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.outbox import Outbox
from ustad.runtime.speech_service import SpeechService
from ustad.settings import Settings
from ustad.speech.fakes import FakeTranscriber
from ustad.store.database import Database
from ustad.store.models import Cycle, Learner, Session, Turn
from ustad.store.repository import Repository
from ustad.vocabulary import Step

HANG_GUARD = 60.0


class FlakyRepository:
    """A ``Repository`` that can be told to fail or to hang, and logs what it stored."""

    def __init__(self, inner: Repository) -> None:
        self.inner = inner
        self.mode = "ok"
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.mode == "down":
                raise ConnectionRefusedError("the database is down")
            if self.mode == "hang":
                await asyncio.Event().wait()
            result = await method(*args, **kwargs)
            self.calls.append(name)
            return result

        return call


@dataclass
class Rig:
    database: Database
    flaky: FlakyRepository
    context: LearnContext
    outbox: Outbox
    outbox_dir: Path

    async def drained(self) -> None:
        async with asyncio.timeout(HANG_GUARD):
            await self.outbox.wait_empty()

    async def count(self, model: type[object]) -> int:
        async with self.database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def stored_turn_ids(self) -> list[str]:
        async with self.database.session() as session:
            rows = await session.scalars(select(Turn.turn_id).order_by(Turn.created_at))
            return list(rows)


def build_context(
    speech: SpeechService, repository: Any, outbox_dir: Path
) -> tuple[LearnContext, Outbox]:
    policy = replace(TurnPolicy.from_settings(Settings()), quick_language_id=False)
    writer = StoreWriter(repository)
    # Tiny bounds: a hung call goes to the outbox at once, and replays retry fast. (A slow
    # healthy call may go there too; nothing below depends on it not doing so.)
    outbox = Outbox(outbox_dir, writer.write_entry, attempt_timeout=0.05, retry_max=0.02)
    context = LearnContext(
        processor=TurnProcessor(speech, policy),
        speech=speech,
        recorder=TurnRecorder(writer, outbox, timeout=0.05),
        metrics=ServiceMetrics(speech=speech, outbox=outbox),
    )
    return context, outbox


@pytest.fixture
async def rig(
    fake_speech: tuple[SpeechService, FakeTranscriber], tmp_path: Path
) -> AsyncIterator[Rig]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'learn.db'}")
    await database.migrate()
    flaky = FlakyRepository(Repository(database))
    outbox_dir = tmp_path / "outbox"
    context, outbox = build_context(fake_speech[0], flaky, outbox_dir)
    await outbox.start()
    try:
        yield Rig(database, flaky, context, outbox, outbox_dir)
    finally:
        await outbox.stop()
        await database.close()


async def _say(session: LearnSession, port: RecordingPort, audio: bytes) -> str:
    """One utterance; the ``turn_id`` its reply carried."""
    async with asyncio.timeout(HANG_GUARD):
        await session.handle(Utterance(audio))
    turn_id = port.messages[-1].turn_id
    assert turn_id is not None
    return turn_id


async def test_every_turn_a_reply_named_is_stored_after_an_outage(
    rig: Rig, heard: Heard, urdu_bytes: bytes, english_bytes: bytes
) -> None:
    port = RecordingPort()
    session = LearnSession(rig.context, port, "english")
    await session.open("learner-1")
    sent = [await _say(session, port, urdu_bytes)]  # stored at once (unless SQLite is slow)

    rig.flaky.mode = "hang"
    await session.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    await session.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    heard.english, heard.language = "elephants", ("en", 0.9)
    sent.append(await _say(session, port, english_bytes))
    assert port.messages[-1].reply.step is Step.FEEDBACK_STEP
    assert rig.outbox.held

    rig.flaky.mode = "down"
    await session.handle(Ack(AckKind.FEEDBACK_COMPLETE))
    await session.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    heard.english = "I want water"
    sent.append(await _say(session, port, english_bytes))
    assert port.messages[-1].reply.step is Step.AWAIT_NEXT  # passed: the cycle ends
    second_port = RecordingPort()
    other = LearnSession(rig.context, second_port, "urdu")
    await other.open(None)  # a new learner while the database is down
    assert other.session_id is None and other.session_ref is not None
    heard.language = ("ur", 0.9)
    sent.append(await _say(other, second_port, urdu_bytes))
    assert second_port.messages[-1].reply.step is Step.YOU_SAID_AUDIO
    await other.close()
    await session.close()
    assert rig.context.metrics.stats()["outbox"]["pending"] > 0
    assert await rig.stored_turn_ids() in ([], sent[:1])

    rig.flaky.mode = "ok"
    await rig.drained()
    assert await rig.stored_turn_ids() == sent  # all of them, in the order they were made
    assert (await rig.count(Session), await rig.count(Learner), await rig.count(Cycle)) == (2, 2, 2)
    async with rig.database.session() as db:
        cycles = (await db.scalars(select(Cycle).order_by(Cycle.started_at))).all()
        sessions = (await db.scalars(select(Session))).all()
    assert [(c.status, c.attempts) for c in cycles] == [("passed", 2), ("abandoned", 0)]
    assert all(s.ended_at is not None for s in sessions)
    stats = rig.outbox.stats()
    assert stats.failed_total == stats.lost_total == 0
    assert stats.replayed_total == stats.appended_total > 0


async def test_a_session_opens_and_answers_while_the_database_is_down(
    rig: Rig, urdu_bytes: bytes
) -> None:
    rig.flaky.mode = "down"
    port = RecordingPort()
    session = LearnSession(rig.context, port, "urdu")
    async with asyncio.timeout(HANG_GUARD):
        await session.open("learner-2")
    assert rig.context.metrics.sessions_active == 1
    turn_id = await _say(session, port, urdu_bytes)
    assert port.messages[-1].reply.step is Step.YOU_SAID_AUDIO
    assert rig.outbox.pending == 3  # session, cycle, turn
    rig.flaky.mode = "ok"
    await rig.drained()
    assert await rig.stored_turn_ids() == [turn_id]
    # The session's writes were made in this order, and replayed in it (an attempt the
    # outbox gave up on may still finish, later: a repeat, never a reordering).
    assert list(dict.fromkeys(rig.flaky.calls)) == ["open_session", "start_cycle", "record_turn"]
    assert (await rig.count(Session), await rig.count(Cycle)) == (1, 1)
    await session.close()


async def test_writes_survive_a_restart_and_replay_once(
    rig: Rig, fake_speech: tuple[SpeechService, FakeTranscriber], urdu_bytes: bytes
) -> None:
    rig.flaky.mode = "down"
    port = RecordingPort()
    session = LearnSession(rig.context, port, "urdu")
    await session.open(None)
    sent = [await _say(session, port, urdu_bytes)]
    await session.close()
    await rig.outbox.stop()  # the process stops while the database is down

    # A crash after a commit but before the journal entry was removed: stored once already.
    segments = sorted(rig.outbox_dir.glob("worker-0/[0-9]*.jsonl"), key=lambda p: int(p.stem))
    lines = [line for path in segments for line in path.read_text(encoding="utf-8").splitlines()]
    restarted_store = FlakyRepository(rig.flaky.inner)
    context, outbox = build_context(fake_speech[0], restarted_store, rig.outbox_dir)
    assert len(lines) == 4
    for line in lines[:3]:
        await StoreWriter(rig.flaky.inner).write_entry(json.loads(line))
    await outbox.start()
    try:
        assert outbox.pending == 4  # open, start cycle, turn, end: counted from disk
        async with asyncio.timeout(HANG_GUARD):
            await outbox.wait_empty()
    finally:
        await outbox.stop()
    assert await rig.stored_turn_ids() == sent
    assert (await rig.count(Session), await rig.count(Learner), await rig.count(Cycle)) == (1, 1, 1)
    assert outbox.stats().replayed_total == 4 and outbox.stats().failed_total == 0
    async with rig.database.session() as db:
        stored_session = (await db.scalars(select(Session))).one()
        turn = (await db.scalars(select(Turn))).one()
    assert stored_session.ended_at is not None
    # The times are the session's, not the replay's.
    assert stored_session.started_at <= turn.created_at <= stored_session.ended_at
    assert context.recorder.outbox is outbox


async def test_a_session_is_re_opened_only_when_the_database_takes_it_now(
    rig: Rig, urdu_bytes: bytes
) -> None:
    """A resume re-opens its stored session at once or not at all: never journaled, so
    the caller can start a new session instead of writing into rows that may not exist."""
    port = RecordingPort()
    session = LearnSession(rig.context, port, "english")
    await session.open("learner-3")
    await _say(session, port, urdu_bytes)
    kept = session.state
    await session.close()
    await rig.drained()

    rig.flaky.mode = "down"
    down = LearnSession(rig.context, RecordingPort(), state=kept)
    async with asyncio.timeout(HANG_GUARD):
        assert not await down.reopen()
    assert rig.outbox.pending == 0

    rig.flaky.mode = "ok"
    # A session the database does not know (its rows wait in another worker's outbox).
    ghost = replace(kept, session_ref=new_ref(), cycle_ref=None)
    assert not await LearnSession(rig.context, RecordingPort(), state=ghost).reopen()
    resumed = LearnSession(rig.context, RecordingPort(), state=kept)
    assert await resumed.reopen()
    async with rig.database.session() as db:
        assert (await db.scalars(select(Cycle.status))).all() == ["active"]
    await resumed.close()


async def test_a_session_whose_rows_are_not_stored_yet_is_not_re_opened(
    rig: Rig, urdu_bytes: bytes
) -> None:
    """Its first writes still wait in the outbox (here, of the same worker; with
    another worker's, the database does not know the session yet)."""
    rig.flaky.mode = "down"
    port = RecordingPort()
    session = LearnSession(rig.context, port, "english")
    await session.open("learner-4")
    await _say(session, port, urdu_bytes)
    resumed = LearnSession(rig.context, RecordingPort(), state=session.state)
    assert not await resumed.reopen()
    rig.flaky.mode = "ok"
    await rig.drained()
    await session.close()


async def test_settled_waits_for_the_writes_in_flight_until_their_deadline(
    tmp_path: Path,
) -> None:
    """``settled`` returns when the tracked writes end, and does not wait past the
    time they may take (a write that hangs is journaled by then)."""
    writer = StoreWriter(Repository(Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")))
    recorder = TurnRecorder(writer, Outbox(tmp_path / "outbox", writer.write_entry), timeout=0.01)
    assert recorder.deadline(3) == pytest.approx(1.03)
    await recorder.settled()  # nothing in flight

    release = asyncio.Event()
    done: list[str] = []

    async def writes() -> None:
        await release.wait()
        done.append("stored")

    recorder.track(asyncio.create_task(writes()), 1)
    reader = asyncio.create_task(recorder.settled())
    await asyncio.sleep(0)
    assert not reader.done()
    release.set()
    await reader
    assert done == ["stored"]

    hung = asyncio.create_task(asyncio.Event().wait())
    recorder.track(hung, 1)
    await recorder.settled()  # returns at the hung task's deadline, about 1 s
    assert not hung.done()
    hung.cancel()
