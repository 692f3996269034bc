"""A learn session's store writes as values: written now, or journaled and written later.

Each write names its session and cycle by the ``client_ref`` the session gave them
(a UUID in hex), never by a database id, since the database may not have stored them
yet; ``StoreWriter`` resolves the references to ids when it writes. Every write carries
the time it was made, so a replay stores the learner's times, not the replay's.
``to_entry`` and ``from_entry`` turn a write into a JSON object and back (the outbox's
journal lines). Writing the same value twice stores it once.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache

from ustad.learn.events import Target
from ustad.store.repository import DuplicateTurnError, NotFoundError, Repository, TurnRecord
from ustad.vocabulary import CycleStatus, ErrorCode, LanguageMode, Step, TurnKind


@dataclass(frozen=True)
class OpenSession:
    """Register the learner (``None``: a new anonymous one) and the session."""

    session_ref: str
    learner_id: str | None
    mode: LanguageMode
    at: datetime


@dataclass(frozen=True)
class StartCycle:
    """A new cycle practising ``target`` (the session's active one becomes abandoned)."""

    session_ref: str
    cycle_ref: str
    target: Target
    at: datetime


@dataclass(frozen=True)
class FinishCycle:
    """End a cycle as passed, skipped or abandoned."""

    session_ref: str
    cycle_ref: str
    status: CycleStatus
    at: datetime


@dataclass(frozen=True)
class RecordTurn:
    """One answered turn; ``turn``'s ``session_id`` and ``cycle_id`` are placeholders and
    its ``created_at`` is set."""

    session_ref: str
    cycle_ref: str | None
    turn: TurnRecord


@dataclass(frozen=True)
class EndSession:
    """Mark the session ended (an unfinished cycle becomes abandoned)."""

    session_ref: str
    at: datetime


@dataclass(frozen=True)
class ReopenSession:
    """Continue a session after a resume: not ended any more, and its cycle (if any)
    active again if ending the session abandoned it."""

    session_ref: str
    cycle_ref: str | None


StoreOp = OpenSession | StartCycle | FinishCycle | RecordTurn | EndSession | ReopenSession

_NAMES: dict[type[Any], str] = {
    OpenSession: "open_session",
    StartCycle: "start_cycle",
    FinishCycle: "finish_cycle",
    RecordTurn: "record_turn",
    EndSession: "end_session",
    ReopenSession: "reopen_session",
}
_TYPES = {name: kind for kind, name in _NAMES.items()}
_ID_FIELDS = ("session_id", "cycle_id")


def describe(op: StoreOp) -> str:
    """A short name for logs, e.g. ``record_turn 5f2c... of session 81ab...``."""
    what = _NAMES[type(op)]
    if isinstance(op, RecordTurn):
        what = f"{what} {op.turn.turn_id}"
    return f"{what} of session {op.session_ref}"


def to_entry(op: StoreOp) -> dict[str, Any]:
    """``op`` as a JSON-ready object (times as ISO 8601 strings)."""
    entry: dict[str, Any] = {"op": _NAMES[type(op)]}
    for item in dataclasses.fields(op):
        value = getattr(op, item.name)
        if isinstance(value, Target):
            value = value.to_dict()
        elif isinstance(value, TurnRecord):
            value = {
                key: _plain(val)
                for key, val in dataclasses.asdict(value).items()
                if key not in _ID_FIELDS
            }
        entry[item.name] = _plain(value)
    return entry


def from_entry(entry: dict[str, Any]) -> StoreOp:
    """The write ``to_entry`` made (``ValueError`` on anything else)."""
    try:
        kind = _TYPES[entry["op"]]
        values = {f.name: entry[f.name] for f in dataclasses.fields(kind)}
        if "at" in values:
            values["at"] = datetime.fromisoformat(values["at"])
        if kind is StartCycle:
            values["target"] = Target.from_dict(values["target"])
        if kind is FinishCycle:
            values["status"] = CycleStatus(values["status"])
        if kind is RecordTurn:
            values["turn"] = _turn(values["turn"])
        op: StoreOp = kind(**values)
        return op
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a store write: {error!r}") from error


def _turn(data: dict[str, Any]) -> TurnRecord:
    code = data.get("error_code")
    return TurnRecord(
        **{
            **data,
            "session_id": 0,
            "cycle_id": None,
            "kind": TurnKind(data["kind"]),
            "step": Step(data["step"]),
            "error_code": None if code is None else ErrorCode(code),
            "created_at": datetime.fromisoformat(data["created_at"]),
        }
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class StoreWriter:
    """Writes ``StoreOp`` values through the ``Repository``, references resolved to ids.

    The ids of the last ``known_refs`` sessions and cycles written are remembered; any
    other reference is looked up by its ``client_ref`` (after a restart, say). A reference
    the database does not have raises ``NotFoundError``.
    """

    def __init__(self, repository: Repository, known_refs: int = 100_000) -> None:
        self.repository = repository
        self._ids: LRUCache[str, int] = LRUCache(known_refs)

    async def write(self, op: StoreOp) -> int | None:
        """Store ``op``; the id of the session or cycle it creates (else ``None``).

        Raises the database's errors, ``NotFoundError`` for an unknown reference and
        ``ValueError`` for data the store refuses. A turn stored before is not an error."""
        store = self.repository
        match op:
            case OpenSession(ref, learner, mode, at):
                self._ids[ref] = await store.open_session(ref, learner, mode, at)
                return self._ids[ref]
            case StartCycle(session_ref, ref, target, at):
                self._ids[ref] = await store.start_cycle(
                    await self._resolve(session_ref, store.session_by_ref),
                    target.urdu,
                    target.english,
                    target.provider,
                    target.phrase_id,
                    confidence=target.confidence,
                    client_ref=ref,
                    started_at=at,
                )
                return self._ids[ref]
            case FinishCycle(_, ref, status, at):
                await store.finish_cycle(await self._resolve(ref, store.cycle_by_ref), status, at)
            case RecordTurn(session_ref, cycle_ref, turn):
                session_id = await self._resolve(session_ref, store.session_by_ref)
                cycle_id = None
                if cycle_ref is not None:
                    cycle_id = await self._resolve(cycle_ref, store.cycle_by_ref)
                ids = dataclasses.replace(turn, session_id=session_id, cycle_id=cycle_id)
                # A duplicate is an earlier attempt that was stored after all.
                with contextlib.suppress(DuplicateTurnError):
                    await store.record_turn(ids)
            case EndSession(ref, at):
                await store.end_session(await self._resolve(ref, store.session_by_ref), at)
            case ReopenSession(ref, cycle_ref):
                cycle = None
                if cycle_ref is not None:
                    cycle = await self._resolve(cycle_ref, store.cycle_by_ref)
                await store.reopen_session(await self._resolve(ref, store.session_by_ref), cycle)
        return None

    async def write_entry(self, entry: dict[str, Any]) -> None:
        """Store a journaled write (the outbox's ``apply``)."""
        await self.write(from_entry(entry))

    async def _resolve(self, ref: str, look_up: Callable[[str], Awaitable[int | None]]) -> int:
        found = self._ids.get(ref)
        if found is None:
            found = await look_up(ref)
            if found is None:
                raise NotFoundError(f"nothing stored with client_ref {ref!r}")
            self._ids[ref] = found
        return found
