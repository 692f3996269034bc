"""Repository: what the tutor stores about learners, sessions, cycles and turns."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from ustad.store.database import Database
from ustad.store.models import Cycle, Learner
from ustad.store.repository import (
    DuplicateTurnError,
    NotFoundError,
    Repository,
    StoreError,
    TurnRecord,
)
from ustad.vocabulary import ErrorCode, Step, TurnKind

URDU = "آپ کا نام کیا ہے؟"
ENGLISH = "What is your name?"


def _turn(session_id: int, cycle_id: int | None, **fields: object) -> TurnRecord:
    base = TurnRecord(
        turn_id=str(uuid.uuid4()),
        session_id=session_id,
        cycle_id=cycle_id,
        kind=TurnKind.ENGLISH_REPEAT,
        step=Step.FEEDBACK_STEP,
        language_mode="urdu",
        transcript="what is you name",
        english_sentence=ENGLISH,
        timings={"stt": 410.5, "total": 980.0},
        audio_seconds=2.4,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


async def _cycle(database: Database, cycle_id: int) -> Cycle:
    async with database.session() as session:
        cycle = await session.get(Cycle, cycle_id)
    assert cycle is not None
    return cycle


async def _started(repository: Repository, external_id: str | None = None) -> tuple[int, int]:
    learner = await repository.get_or_create_learner(external_id)
    return learner, await repository.start_session(learner, "urdu")


# Learners


async def test_same_external_id_is_the_same_learner(repository: Repository) -> None:
    first = await repository.get_or_create_learner("browser-1")
    assert await repository.get_or_create_learner("browser-1") == first
    assert await repository.get_or_create_learner("browser-2") != first


async def test_anonymous_learners_are_all_new(repository: Repository) -> None:
    ids = {await repository.get_or_create_learner(None) for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("bad", ["", "x" * 129])
async def test_external_id_length_is_checked(repository: Repository, bad: str) -> None:
    with pytest.raises(ValueError, match="external_id"):
        await repository.get_or_create_learner(bad)


async def test_concurrent_first_visits_create_one_learner(empty_url: str) -> None:
    # Two server processes (two engines) and several connections each see the same new
    # browser id at once; every caller must get the one row that wins.
    databases = [Database(empty_url), Database(empty_url)]
    try:
        await databases[0].migrate()
        repositories = [Repository(db) for db in databases]
        external_id = str(uuid.uuid4())
        ids = await asyncio.gather(
            *(repositories[i % 2].get_or_create_learner(external_id) for i in range(8))
        )
        async with databases[0].session() as session:
            rows = await session.scalar(
                select(func.count()).select_from(Learner).where(Learner.external_id == external_id)
            )
    finally:
        for db in databases:
            await db.close()
    assert rows == 1
    assert len(set(ids)) == 1


# Sessions and cycles


async def test_unknown_ids_are_not_found(repository: Repository) -> None:
    with pytest.raises(NotFoundError):
        await repository.start_session(999_999, "urdu")
    with pytest.raises(NotFoundError):
        await repository.end_session(999_999)
    with pytest.raises(NotFoundError):
        await repository.start_cycle(999_999, URDU, ENGLISH, "phrase_bank", None)
    with pytest.raises(NotFoundError):
        await repository.finish_cycle(999_999, "passed")


async def test_new_cycle_abandons_the_active_one(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    first = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", "p-17")
    second = await repository.start_cycle(session_id, "شکریہ", "Thank you.", "whisper", None)
    old, new = await _cycle(database, first), await _cycle(database, second)
    assert (old.status, new.status) == ("abandoned", "active")
    assert old.ended_at is not None
    assert new.ended_at is None
    assert (old.phrase_id, old.provider) == ("p-17", "phrase_bank")


async def test_a_cycle_keeps_its_provider_and_confidence(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    sure = await repository.start_cycle(
        session_id, URDU, ENGLISH, "whisper", None, confidence=0.3162
    )
    unsaid = await repository.start_cycle(session_id, URDU, ENGLISH, "remote-mt", None)
    cycle = await _cycle(database, sure)
    assert (cycle.provider, cycle.confidence) == ("whisper", pytest.approx(0.3162))
    assert (await _cycle(database, unsaid)).confidence is None


async def test_new_cycle_leaves_other_sessions_alone(
    repository: Repository, database: Database
) -> None:
    _, one = await _started(repository)
    _, other = await _started(repository)
    kept = await repository.start_cycle(one, URDU, ENGLISH, "phrase_bank", None)
    await repository.start_cycle(other, URDU, ENGLISH, "phrase_bank", None)
    assert (await _cycle(database, kept)).status == "active"


async def test_end_session_abandons_the_active_cycle_only(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    passed = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    await repository.finish_cycle(passed, "passed")
    active = await repository.start_cycle(session_id, "شکریہ", "Thank you.", "phrase_bank", None)
    await repository.end_session(session_id)
    assert (await _cycle(database, passed)).status == "passed"
    assert (await _cycle(database, active)).status == "abandoned"


async def test_reopening_a_resumed_session_revives_only_the_cycle_it_left(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    passed = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    await repository.finish_cycle(passed, "passed")
    active = await repository.start_cycle(session_id, "شکریہ", "Thank you.", "phrase_bank", None)
    await repository.end_session(session_id)
    await repository.reopen_session(session_id, active)
    await repository.reopen_session(session_id, passed)
    revived = await _cycle(database, active)
    assert revived.status == "active" and revived.ended_at is None
    assert (await _cycle(database, passed)).status == "passed"
    _, other = await _started(repository)
    with pytest.raises(NotFoundError):
        await repository.reopen_session(other, active)


async def test_a_finished_cycle_keeps_its_first_outcome(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    cycle_id = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    await repository.finish_cycle(cycle_id, "skipped")
    ended = (await _cycle(database, cycle_id)).ended_at
    await repository.finish_cycle(cycle_id, "passed")  # late, after the learner moved on
    cycle = await _cycle(database, cycle_id)
    assert (cycle.status, cycle.ended_at) == ("skipped", ended)


@pytest.mark.parametrize("status", ["active", "won"])
async def test_finish_cycle_rejects_non_final_status(repository: Repository, status: str) -> None:
    _, session_id = await _started(repository)
    cycle_id = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    with pytest.raises(ValueError, match=status):
        await repository.finish_cycle(cycle_id, status)


# Turns


async def test_english_turns_count_attempts_and_keep_the_best_score(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    cycle_id = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    await repository.record_turn(_turn(session_id, cycle_id, kind="urdu", step="you_said_audio"))
    for score in (40.0, 72.5, 65.0):
        await repository.record_turn(_turn(session_id, cycle_id, overall_score=score))
    # Not attempts: nothing heard, nothing scored.
    await repository.record_turn(_turn(session_id, cycle_id, step="no_speech", transcript=None))
    cycle = await _cycle(database, cycle_id)
    assert (cycle.attempts, cycle.best_score) == (3, 72.5)


async def test_concurrent_attempts_are_all_counted(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    cycle_id = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    scores = [10.0, 90.0, 50.0, 30.0, 70.0, 20.0]
    await asyncio.gather(
        *(repository.record_turn(_turn(session_id, cycle_id, overall_score=s)) for s in scores)
    )
    cycle = await _cycle(database, cycle_id)
    assert (cycle.attempts, cycle.best_score) == (6, 90.0)


async def test_turn_survives_reopening_the_database(empty_url: str) -> None:
    first = Database(empty_url)
    await first.migrate()
    repository = Repository(first)
    try:
        _, session_id = await _started(repository, "reopen")
        cycle_id = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", "p-1")
        turn = _turn(
            session_id,
            cycle_id,
            overall_score=88.0,
            passed=True,
            step="await_next",
            created_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        )
        await repository.record_turn(turn)
    finally:
        await first.close()
    second = Database(empty_url)
    try:
        assert await Repository(second).session_turns(session_id) == [turn]
    finally:
        await second.close()


async def test_urdu_text_and_json_round_trip(repository: Repository, database: Database) -> None:
    _, session_id = await _started(repository)
    assessment = {
        "overall": 61.5,
        "passed": False,
        "target": ENGLISH,
        "words": [{"word": "name", "status": "mispronounced", "heard": "nam"}],
        "feedback_ur": "لفظ «name» دوبارہ کہیں۔",
    }
    turn = _turn(
        session_id,
        None,
        kind="urdu",
        step="you_said_audio",
        transcript=URDU,
        detected_language="ur",
        language_probability=0.93,
        urdu_sentence=URDU,
        assessment=assessment,
        timings={"decode": 3.2, "stt": 512.75, "translate": 0.4, "tts": 120.0, "total": 640.1},
    )
    await repository.record_turn(turn)
    [back] = await repository.session_turns(session_id)
    assert back.assessment == assessment
    assert back.timings == turn.timings
    assert (back.transcript, back.urdu_sentence) == (URDU, URDU)
    assert back.cycle_id is None
    # Stored as readable UTF-8 JSON, not \u escapes, for anyone inspecting the database.
    async with database.engine.connect() as connection:
        raw = await connection.scalar(text("SELECT CAST(assessment AS TEXT) FROM turns"))
    assert "دوبارہ" in raw


async def test_no_speech_turn_has_no_cycle_and_null_fields(repository: Repository) -> None:
    _, session_id = await _started(repository)
    turn = TurnRecord(
        turn_id=str(uuid.uuid4()),
        session_id=session_id,
        cycle_id=None,
        kind="urdu",
        step="no_speech",
        language_mode="english",
        error_code=None,
    )
    await repository.record_turn(turn)
    [back] = await repository.session_turns(session_id)
    assert back.assessment is None
    assert back.passed is None
    assert back.timings == {}
    assert back.created_at is not None
    assert back.created_at.utcoffset() == timedelta(0)


async def test_session_turns_are_in_order_and_per_session(repository: Repository) -> None:
    _, session_id = await _started(repository)
    _, other = await _started(repository)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    steps = ["you_said_audio", "feedback_step", "await_next"]
    for offset, step in reversed(list(enumerate(steps))):
        at = start + timedelta(seconds=offset)
        await repository.record_turn(_turn(session_id, None, step=step, created_at=at))
    await repository.record_turn(
        _turn(other, None, step="error", error_code=ErrorCode.UNDECODABLE_AUDIO)
    )
    assert [t.step for t in await repository.session_turns(session_id)] == steps
    assert [t.error_code for t in await repository.session_turns(other)] == [
        ErrorCode.UNDECODABLE_AUDIO
    ]
    assert await repository.session_turns(999_999) == []


async def test_turn_id_is_unique(repository: Repository) -> None:
    _, session_id = await _started(repository)
    turn = _turn(session_id, None)
    await repository.record_turn(turn)
    with pytest.raises(DuplicateTurnError):
        await repository.record_turn(turn)


async def test_turn_checks_its_references_and_values(
    repository: Repository, database: Database
) -> None:
    _, session_id = await _started(repository)
    _, other = await _started(repository)
    foreign = await repository.start_cycle(other, URDU, ENGLISH, "phrase_bank", None)
    with pytest.raises(StoreError, match="belongs to session"):
        await repository.record_turn(_turn(session_id, foreign, overall_score=50.0))
    with pytest.raises(NotFoundError):
        await repository.record_turn(_turn(999_999, None))
    with pytest.raises(ValueError, match="TurnKind"):
        await repository.record_turn(_turn(session_id, None, kind="french"))
    with pytest.raises(ValueError, match="timezone"):
        await repository.record_turn(_turn(session_id, None, created_at=datetime(2025, 1, 1)))
    assert (await repository.session_turns(session_id)) == []
    # The rejected attempt was not counted either.
    assert (await _cycle(database, foreign)).attempts == 0


# Progress


async def test_progress_aggregates_sentences_over_sessions(repository: Repository) -> None:
    external_id = f"learner-{uuid.uuid4()}"
    learner = await repository.get_or_create_learner(external_id)

    # Session 1: tries "What is your name?" twice, then moves on; skips "Thank you."
    first = await repository.start_session(learner, "urdu")
    name_1 = await repository.start_cycle(first, URDU, ENGLISH, "phrase_bank", "p-1")
    for score in (35.0, 55.0):
        await repository.record_turn(_turn(first, name_1, overall_score=score, passed=False))
    thanks = await repository.start_cycle(first, "شکریہ", "Thank you.", "phrase_bank", "p-2")
    await repository.finish_cycle(thanks, "skipped")
    await repository.end_session(first)

    # Session 2: says the name sentence in other words, passes it on the third try.
    second = await repository.start_session(learner, "english")
    name_2 = await repository.start_cycle(second, "تمہارا نام کیا ہے؟", ENGLISH, "whisper", None)
    for score, passed in ((60.0, False), (79.0, False), (91.0, True)):
        await repository.record_turn(_turn(second, name_2, overall_score=score, passed=passed))
    await repository.finish_cycle(name_2, "passed")

    # Another learner's practice must not leak in.
    _, stranger = await _started(repository, f"other-{uuid.uuid4()}")
    await repository.start_cycle(stranger, "صبح بخیر", "Good morning.", "phrase_bank", None)

    progress = await repository.learner_progress(external_id)
    assert progress is not None
    assert (progress.external_id, progress.sessions, progress.total_attempts) == (
        external_id,
        2,
        5,
    )
    assert [s.english for s in progress.sentences] == [ENGLISH, "Thank you."]
    name, thank_you = progress.sentences
    assert (name.urdu, name.attempts, name.best_score, name.passed) == (
        "تمہارا نام کیا ہے؟",
        5,
        91.0,
        True,
    )
    assert (thank_you.attempts, thank_you.best_score, thank_you.passed) == (0, None, False)
    assert name.last_practised > thank_you.last_practised
    assert name.last_practised.utcoffset() == timedelta(0)


async def test_progress_counts_a_passing_turn_even_if_the_cycle_was_abandoned(
    repository: Repository,
) -> None:
    # The connection closed (end_session) before the runtime could finish the cycle.
    external_id = f"learner-{uuid.uuid4()}"
    _, session_id = await _started(repository, external_id)
    cycle_id = await repository.start_cycle(session_id, URDU, ENGLISH, "phrase_bank", None)
    await repository.record_turn(_turn(session_id, cycle_id, overall_score=95.0, passed=True))
    await repository.end_session(session_id)
    await repository.finish_cycle(cycle_id, "passed")
    progress = await repository.learner_progress(external_id)
    assert progress is not None
    [sentence] = progress.sentences
    assert (sentence.attempts, sentence.passed) == (1, True)


async def test_progress_of_unknown_or_new_learner(repository: Repository) -> None:
    assert await repository.learner_progress("nobody") is None
    await repository.get_or_create_learner("newcomer")
    progress = await repository.learner_progress("newcomer")
    assert progress is not None
    assert (progress.sessions, progress.total_attempts, progress.sentences) == (0, 0, ())
