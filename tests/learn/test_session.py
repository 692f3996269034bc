"""A whole learn cycle through the learn layer alone: no WebSocket, no network.

Fake recognisers answer on real recordings; the store is a real SQLite database;
the client is a port that records what it is sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.learn.conftest import Heard
from ustad.learn.events import Ack, AckKind, InputRejected, NextSentence, Utterance, Work
from ustad.learn.machine import State
from ustad.learn.processor import TurnOutcome, TurnPolicy, TurnProcessor
from ustad.learn.recorder import TurnRecorder
from ustad.learn.session import LearnContext, LearnSession, ServerMessage, SessionState
from ustad.learn.store_ops import StoreOp, StoreWriter
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.outbox import Outbox
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import Settings
from ustad.speech.fakes import FakeTranscriber
from ustad.store.database import Database
from ustad.store.models import Cycle
from ustad.store.repository import LearnerProgress, Repository
from ustad.vocabulary import CycleStatus, ErrorCode, Step, TurnKind


class RecordingPort:
    """A client that keeps every message and audio frame it is sent."""

    def __init__(self) -> None:
        self.messages: list[ServerMessage] = []
        self.audio: list[bytes] = []

    async def send_message(self, message: ServerMessage) -> None:
        self.messages.append(message)

    async def send_audio(self, audio: bytes) -> None:
        self.audio.append(audio)

    @property
    def steps(self) -> list[Step]:
        return [message.reply.step for message in self.messages]


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[Repository]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'learn.db'}")
    await database.migrate()
    try:
        yield Repository(database)
    finally:
        await database.close()


@pytest.fixture
def context(
    fake_speech: tuple[SpeechService, FakeTranscriber], repository: Repository, tmp_path: Path
) -> LearnContext:
    speech, _ = fake_speech
    policy = replace(TurnPolicy.from_settings(Settings()), quick_language_id=False)
    processor = TurnProcessor(speech, policy)
    writer = StoreWriter(repository)
    outbox = Outbox(tmp_path / "outbox", writer.write_entry)
    return LearnContext(
        processor=processor,
        speech=speech,
        recorder=TurnRecorder(writer, outbox),
        metrics=ServiceMetrics(speech=speech, outbox=outbox),
    )


async def test_a_whole_cycle_with_no_transport(
    context: LearnContext,
    repository: Repository,
    heard: Heard,
    urdu_bytes: bytes,
    english_bytes: bytes,
) -> None:
    port = RecordingPort()
    session = LearnSession(context, port, "english")
    await session.open("learner-1")
    assert context.metrics.sessions_active == 1

    await session.handle(Utterance(urdu_bytes))
    you_said = port.messages[-1]
    assert you_said.reply.step is Step.YOU_SAID_AUDIO
    assert you_said.reply.english_sentence == "I want water."
    assert you_said.turn_id is not None and you_said.audio is not None
    assert port.audio and you_said.audio.bytes == len(port.audio[-1]) > 0

    await session.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    await session.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    spoken_after_ack = port.messages[-1]
    assert spoken_after_ack.reply.step is Step.FULL_SENTENCE_AUDIO
    # Its synthesis is engine time of this reply, not "overhead".
    assert spoken_after_ack.timings["engine"] > 0
    heard.english, heard.language = "elephants", ("en", 0.9)
    await session.handle(Utterance(english_bytes))
    failed = port.messages[-1].reply
    assert failed.step is Step.FEEDBACK_STEP and failed.verdict is not None
    assert not failed.verdict.passed and failed.verdict.attempt == 1

    await session.handle(Ack(AckKind.FEEDBACK_COMPLETE))
    await session.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    heard.english = "I want water"
    await session.handle(Utterance(english_bytes))
    passed = port.messages[-1].reply
    assert passed.step is Step.AWAIT_NEXT and passed.verdict is not None
    assert passed.verdict.passed and passed.verdict.attempt == 2
    assert session.machine.state is State.AWAIT_URDU
    await session.close()
    assert context.metrics.sessions_active == 0

    assert port.steps == [
        Step.YOU_SAID_AUDIO,
        Step.REPEAT_PROMPT,
        Step.FULL_SENTENCE_AUDIO,
        Step.FEEDBACK_STEP,
        Step.WORD_BY_WORD,
        Step.FULL_SENTENCE_AUDIO,
        Step.AWAIT_NEXT,
    ]
    assert session.session_id is not None
    turns = await repository.session_turns(session.session_id)
    assert [turn.kind for turn in turns] == [
        TurnKind.URDU_STEP,
        TurnKind.ENGLISH_REPEAT,
        TurnKind.ENGLISH_REPEAT,
    ]
    assert [turn.step for turn in turns] == [
        Step.YOU_SAID_AUDIO,
        Step.FEEDBACK_STEP,
        Step.AWAIT_NEXT,
    ]
    assert {turn.turn_id for turn in turns} == {
        m.turn_id for m in port.messages if m.turn_id is not None
    }
    progress = await repository.learner_progress("learner-1")
    assert progress is not None and progress.total_attempts == 2
    assert progress.sentences[0].passed and progress.sentences[0].attempts == 2


class Exploding(TurnProcessor):
    """A processor with a bug in it."""

    async def process(self, work: Work, target: object, timer: TurnTimer) -> TurnOutcome:
        raise RuntimeError("a bug")


@pytest.mark.parametrize("at_repeat", [False, True])
async def test_an_internal_failure_is_answered_and_stored_with_the_code_sent(
    context: LearnContext,
    repository: Repository,
    urdu_bytes: bytes,
    english_bytes: bytes,
    at_repeat: bool,
) -> None:
    """A turn that fails inside ustad, at either step, is stored as the client saw it."""
    port = RecordingPort()
    session = LearnSession(context, port, "urdu")
    await session.open(None)
    if at_repeat:
        await session.handle(Utterance(urdu_bytes))
    broken = replace(context, processor=Exploding(context.speech, context.processor.policy))
    session.context = broken
    await session.handle(Utterance(english_bytes))
    error = port.messages[-1]
    assert error.reply.step is Step.ERROR and error.reply.error is ErrorCode.INTERNAL
    assert session.session_id is not None
    stored = (await repository.session_turns(session.session_id))[-1]
    assert stored.turn_id == error.turn_id
    assert stored.error_code is ErrorCode.INTERNAL
    expected = TurnKind.ENGLISH_REPEAT if at_repeat else TurnKind.URDU_STEP
    assert stored.kind is expected
    await session.close()


class HeldWriter(StoreWriter):
    """A store writer whose writes wait until ``release`` is set."""

    def __init__(self, repository: Repository) -> None:
        super().__init__(repository)
        self.release = asyncio.Event()
        self.waiting = 0

    async def write(self, op: StoreOp) -> int | None:
        self.waiting += 1
        await self.release.wait()
        self.waiting -= 1
        return await super().write(op)


class StoreCheckingPort(RecordingPort):
    """A client that, as each message arrives, notes how many of the session's turns
    are stored and how many writes wait (then lets them go); it can also fail every
    send (the client has gone unseen)."""

    def __init__(
        self,
        repository: Repository,
        session: LearnSession,
        writer: HeldWriter | None = None,
        *,
        fail: bool = False,
    ) -> None:
        super().__init__()
        self.repository, self.session, self.writer, self.fail = repository, session, writer, fail
        self.when_sent: list[tuple[int, int]] = []
        """Per message: (the session's turns stored, writes waiting)."""

    async def send_message(self, message: ServerMessage) -> None:
        assert self.session.session_id is not None
        turns = await self.repository.session_turns(self.session.session_id)
        waiting = self.writer.waiting if self.writer is not None else 0
        self.when_sent.append((len(turns), waiting))
        if self.writer is not None:
            self.writer.release.set()
        if self.fail:
            raise ConnectionError("the client has gone")
        await super().send_message(message)


@pytest.fixture
def held(context: LearnContext, repository: Repository) -> HeldWriter:
    """The context's recorder writes through a ``HeldWriter`` (released at once)."""
    writer = HeldWriter(repository)
    writer.release.set()
    context.recorder.writer = writer
    return writer


async def test_a_reply_is_sent_while_its_turn_is_written(
    context: LearnContext, repository: Repository, held: HeldWriter, urdu_bytes: bytes
) -> None:
    """The database is off the learner's wait: the Urdu step's reply goes out while its
    writes (the new cycle, then the turn) wait, and they are stored before the next
    event is handled."""
    session = LearnSession(context, RecordingPort(), "english")
    await session.open(None)
    assert session.session_id is not None
    port = StoreCheckingPort(repository, session, held)
    session.port = port
    held.release.clear()
    await session.handle(Utterance(urdu_bytes))
    assert port.steps == [Step.YOU_SAID_AUDIO]
    assert port.when_sent == [(0, 1)]  # the cycle's write waited; the turn's after it
    (stored,) = await repository.session_turns(session.session_id)
    assert stored.turn_id == port.messages[0].turn_id and stored.cycle_id is not None
    assert session.cycle_id == stored.cycle_id
    # The time is still measured, as the store stage, outside the turn's own timings.
    assert "store" not in port.messages[0].timings
    assert context.metrics.stats()["stages_ms"]["store"]["count"] == 1


async def test_a_progress_read_waits_for_the_writes_of_a_reply_sent(
    context: LearnContext,
    repository: Repository,
    held: HeldWriter,
    heard: Heard,
    urdu_bytes: bytes,
    english_bytes: bytes,
) -> None:
    """A client that reads progress as soon as a verdict arrives finds the attempt:
    ``TurnRecorder.settled`` returns only once the writes in flight are stored."""
    session = LearnSession(context, RecordingPort(), "english")
    await session.open("learner-2")
    await session.handle(Utterance(urdu_bytes))
    await session.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    await session.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    reads: list[asyncio.Task[object]] = []

    class ReadingPort(RecordingPort):
        async def send_message(self, message: ServerMessage) -> None:
            await super().send_message(message)

            async def read() -> object:
                await context.recorder.settled()
                return await repository.learner_progress("learner-2")

            reads.append(asyncio.create_task(read()))
            await asyncio.sleep(0.05)
            assert held.waiting == 1 and not reads[0].done()  # the write still waits
            held.release.set()

    session.port = ReadingPort()
    held.release.clear()
    heard.english, heard.language = "I want water", ("en", 0.9)
    await session.handle(Utterance(english_bytes))
    progress = await reads[0]
    assert isinstance(progress, LearnerProgress)
    assert progress.total_attempts == 1 and progress.sentences[0].passed


async def test_a_reply_that_cannot_be_sent_still_stores_the_turn(
    context: LearnContext, repository: Repository, urdu_bytes: bytes
) -> None:
    session = LearnSession(context, RecordingPort(), "english")
    await session.open(None)
    assert session.session_id is not None
    session.port = StoreCheckingPort(repository, session, fail=True)
    with pytest.raises(ConnectionError):
        await session.handle(Utterance(urdu_bytes))
    (stored,) = await repository.session_turns(session.session_id)
    assert stored.step is Step.YOU_SAID_AUDIO and stored.cycle_id is not None


async def test_untranslatable_urdu_is_stored_with_the_code_the_client_got(
    context: LearnContext, repository: Repository, heard: Heard, urdu_bytes: bytes
) -> None:
    heard.urdu = "کچھ اور"  # not in the fake translator
    port = RecordingPort()
    session = LearnSession(context, port, "english")
    await session.open(None)
    await session.handle(Utterance(urdu_bytes))
    sent = port.messages[-1].reply
    assert sent.step is Step.ERROR and sent.error is ErrorCode.NO_VALID_AUDIO
    # Not "No valid audio": the learner was heard and is asked to say it again, simply.
    assert "say it again" in sent.spoken.text and "more simply" in sent.spoken.text
    assert sent.english_sentence is None and session.machine.state is State.AWAIT_URDU
    assert session.session_id is not None
    (stored,) = await repository.session_turns(session.session_id)
    assert stored.error_code is sent.error
    assert stored.transcript == "کچھ اور" and stored.cycle_id is None


async def test_bad_input_keeps_the_step_and_is_not_a_turn(
    context: LearnContext, repository: Repository, urdu_bytes: bytes
) -> None:
    port = RecordingPort()
    session = LearnSession(context, port, "english")
    await session.open(None)
    await session.handle(Utterance(urdu_bytes))
    await session.handle(InputRejected(ErrorCode.INVALID_JSON))
    assert port.messages[-1].reply.error is ErrorCode.INVALID_JSON
    assert port.messages[-1].turn_id is None
    assert session.machine.state is State.AWAIT_YOU_SAID_ACK
    assert session.session_id is not None
    assert len(await repository.session_turns(session.session_id)) == 1


async def test_a_session_resumes_from_its_state_as_json(
    context: LearnContext, repository: Repository, urdu_bytes: bytes
) -> None:
    """The state is a plain value: a new session object (elsewhere) carries on."""
    first = RecordingPort()
    session = LearnSession(context, first, "english")
    await session.open(None)
    await session.handle(Utterance(urdu_bytes))
    await session.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    kept = json.dumps(session.state.to_dict())

    second = RecordingPort()
    resumed = LearnSession(context, second, state=SessionState.from_dict(json.loads(kept)))
    assert resumed.state == session.state
    await resumed.handle(NextSentence())
    assert second.steps == [Step.AWAIT_NEXT]
    assert resumed.machine.state is State.AWAIT_URDU and resumed.cycle_id is None
    assert resumed.session_id is not None
    async with repository._db.session() as db:
        statuses = (await db.scalars(select(Cycle.status))).all()
    assert statuses == [CycleStatus.SKIPPED]


async def test_a_dropped_session_resumes_in_the_same_stored_rows(
    context: LearnContext, repository: Repository, urdu_bytes: bytes
) -> None:
    """The connection dropped after ``you_said_audio`` and the session was ended; a new
    session object from its JSON state re-opens it, re-sends the prompt unstored, and
    its cycle is active again."""
    session = LearnSession(context, RecordingPort(), "english")
    await session.open(None)
    await session.handle(Utterance(urdu_bytes))
    kept = json.dumps(session.state.to_dict())
    await session.close()
    assert session.session_id is not None
    async with repository._db.session() as db:
        assert (await db.scalars(select(Cycle.status))).all() == [CycleStatus.ABANDONED]

    port = RecordingPort()
    resumed = LearnSession(context, port, state=SessionState.from_dict(json.loads(kept)))
    assert await resumed.reopen()
    await resumed.resend()
    assert port.steps == [Step.YOU_SAID_AUDIO] and port.messages[0].turn_id is None
    assert len(port.audio) == 1
    async with repository._db.session() as db:
        assert (await db.scalars(select(Cycle.status))).all() == [CycleStatus.ACTIVE]
    await resumed.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    assert port.steps[-1] is Step.REPEAT_PROMPT
    assert len(await repository.session_turns(session.session_id)) == 1
