"""Store writes as values: what is journaled reads back as the same write."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ustad.learn.events import Target
from ustad.learn.store_ops import (
    EndSession,
    FinishCycle,
    OpenSession,
    RecordTurn,
    ReopenSession,
    StartCycle,
    StoreOp,
    describe,
    from_entry,
    to_entry,
)
from ustad.store.repository import TurnRecord
from ustad.vocabulary import CycleStatus, ErrorCode, Step, TurnKind

AT = datetime(2026, 11, 30, 10, 15, 30, 123456, tzinfo=UTC)

TURN = TurnRecord(
    turn_id="5f2c0b0e8d7c4b3a9e1f2a3b4c5d6e7f",
    session_id=0,
    cycle_id=None,
    kind=TurnKind.ENGLISH_REPEAT,
    step=Step.FEEDBACK_STEP,
    language_mode="urdu",
    transcript="I want water",
    urdu_sentence="مجھے پانی چاہیے",
    english_sentence="I want water.",
    assessment={"scores": {"overall": 71.5}, "words": [{"text": "water", "ok": True}]},
    overall_score=71.5,
    passed=False,
    timings={"stt": 410.5, "total": 980.0},
    audio_seconds=2.4,
    error_code=ErrorCode.BUSY,
    created_at=AT,
)

WRITES: list[StoreOp] = [
    OpenSession("s1", None, "english", AT),
    OpenSession("s2", "learner-9", "urdu", AT),
    StartCycle("s1", "c1", Target("I want water.", "مجھے پانی چاہیے", "memory", "p7"), AT),
    StartCycle("s1", "c2", Target("Where is it?", "کہاں ہے", "whisper", None, 0.2775), AT),
    FinishCycle("s1", "c1", CycleStatus.PASSED, AT),
    RecordTurn("s1", "c1", TURN),
    RecordTurn("s1", None, TURN),
    EndSession("s1", AT),
    ReopenSession("s1", "c2"),
    ReopenSession("s1", None),
]


@pytest.mark.parametrize("write", WRITES, ids=describe)
def test_a_write_survives_a_json_line(write: StoreOp) -> None:
    line = json.dumps(to_entry(write), ensure_ascii=False)
    assert from_entry(json.loads(line)) == write


@pytest.mark.parametrize(
    "entry",
    [{}, {"op": "drop_tables"}, {"op": "end_session"}, {"op": "end_session", "session_ref": "s"}],
)
def test_anything_else_is_refused(entry: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="not a store write"):
        from_entry(entry)
