"""The outbox: journaled writes are replayed in order until stored, across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ustad.runtime.outbox import Outbox, OutboxStats, is_transient, within

HANG_GUARD = 30.0
"""Seconds after which a wait that should already be over fails the test instead."""


class FakeStore:
    """Takes entries, or fails (``down``) or never answers (``hang``) as told."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.stored: list[int] = []
        self.attempts = 0
        self._attempted = asyncio.Condition()

    async def apply(self, entry: dict[str, Any]) -> None:
        async with self._attempted:
            self.attempts += 1
            self._attempted.notify_all()
        if self.mode == "down":
            raise ConnectionRefusedError("the database is down")
        if self.mode == "hang":
            await asyncio.Event().wait()
        if entry.get("bad"):
            raise ValueError("the store refuses this")
        self.stored.append(entry["n"])

    async def attempted(self, times: int) -> None:
        """Return once ``apply`` has been called at least ``times`` times in all."""
        async with asyncio.timeout(HANG_GUARD), self._attempted:
            await self._attempted.wait_for(lambda: self.attempts >= times)


def make_outbox(directory: Path, store: FakeStore) -> Outbox:
    # Tiny pauses and attempt bound: the tests wait on counts, never on the clock.
    return Outbox(directory, store.apply, attempt_timeout=0.02, retry_max=0.01)


@pytest.fixture
async def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def outbox(tmp_path: Path, store: FakeStore) -> AsyncIterator[Outbox]:
    box = make_outbox(tmp_path / "outbox", store)
    yield box
    await box.stop()


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition``: state the code under test has no event for (bounded)."""
    async with asyncio.timeout(HANG_GUARD):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def drained(outbox: Outbox) -> None:
    async with asyncio.timeout(HANG_GUARD):
        await outbox.wait_empty()


@pytest.mark.parametrize("fault", ["down", "hang"])
async def test_entries_wait_for_the_store_and_arrive_in_order(
    outbox: Outbox, store: FakeStore, fault: str
) -> None:
    store.mode = fault
    await outbox.start()
    for n in range(1, 6):
        await outbox.put({"n": n})
    assert outbox.held and outbox.pending == 5
    await store.attempted(3)  # the first entry, tried and retried
    assert store.stored == [] and outbox.pending == 5
    store.mode = "ok"
    await drained(outbox)
    assert store.stored == [1, 2, 3, 4, 5]
    stats = outbox.stats()
    assert stats.pending == 0 and stats.appended_total == 5 and stats.replayed_total == 5
    assert stats.retries_total >= 2 and stats.failed_total == 0
    assert not outbox.held
    assert await outbox.journal.seal() == []  # the stored segments are gone


async def test_empty_means_the_replayed_segment_is_gone_from_disk(
    outbox: Outbox, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    removing, release = asyncio.Event(), asyncio.Event()
    remove = outbox.journal.remove

    async def slow_remove(segment: Path) -> None:
        removing.set()
        await release.wait()
        await remove(segment)

    monkeypatch.setattr(outbox.journal, "remove", slow_remove)
    await outbox.start()
    await outbox.put({"n": 1})
    async with asyncio.timeout(HANG_GUARD):
        await removing.wait()
    assert store.stored == [1] and outbox.pending == 0  # stored, not yet removed
    empty = asyncio.create_task(outbox.wait_empty())
    await asyncio.sleep(0)
    assert not empty.done()
    release.set()
    async with asyncio.timeout(HANG_GUARD):
        await empty
    assert await outbox.journal.seal() == []


async def test_a_removal_that_fails_after_the_file_is_gone_still_ends_empty(
    outbox: Outbox, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    remove = outbox.journal.remove
    failures = [OSError("fsync of the directory failed")]

    async def remove_then_fail(segment: Path) -> None:
        await remove(segment)
        if failures:
            raise failures.pop()

    monkeypatch.setattr(outbox.journal, "remove", remove_then_fail)
    await outbox.start()
    await outbox.put({"n": 1})
    await drained(outbox)  # the next pass finds no segment, and says so
    assert store.stored == [1] and not failures


async def test_a_refused_entry_is_set_aside_and_the_rest_go_on(
    outbox: Outbox, store: FakeStore
) -> None:
    await outbox.start()
    await outbox.put({"n": 1})
    await outbox.put({"n": 2, "bad": True})
    await outbox.put({"n": 3})
    await drained(outbox)
    assert store.stored == [1, 3]
    assert outbox.stats().failed_total == 1 and outbox.stats().replayed_total == 2
    assert outbox.journal.slot is not None
    assert (outbox.journal.slot / "failed.jsonl").read_text().count('"bad":true') == 1


async def test_a_restart_replays_what_the_last_process_left(tmp_path: Path) -> None:
    store = FakeStore()
    store.mode = "down"
    first = make_outbox(tmp_path, store)
    await first.start()
    for n in range(1, 4):
        await first.put({"n": n})
    await store.attempted(2)
    await first.stop()  # the process ends with the database still down

    store.mode = "ok"
    second = make_outbox(tmp_path, store)
    await second.start()
    try:
        assert second.pending <= 3  # counted from disk before any replay
        await drained(second)
        assert store.stored == [1, 2, 3]
    finally:
        await second.stop()


async def test_an_entry_is_replayed_again_if_the_process_ended_before_removing_it(
    tmp_path: Path,
) -> None:
    """At least once: the writer's idempotence makes that exactly once in the database."""
    store = FakeStore()
    first = make_outbox(tmp_path, store)
    await first.put({"n": 1})  # journaled; the process ends before replaying
    await store.apply({"n": 1})  # ... yet an earlier attempt had been committed
    await first.stop()
    second = make_outbox(tmp_path, store)
    await second.start()
    try:
        await drained(second)
    finally:
        await second.stop()
    assert store.stored == [1, 1]


async def test_stats_start_at_zero(outbox: Outbox) -> None:
    assert outbox.stats() == OutboxStats(0, 0, 0, 0, 0, 0, 0)
    assert not outbox.held


async def test_within_does_not_wait_for_a_hung_call_to_unwind() -> None:
    release = asyncio.Event()
    finished = asyncio.Event()

    async def stubborn() -> None:
        await release.wait()  # a hung call (that would also take long to give up)
        finished.set()

    async def quick() -> int:
        return 7

    assert await within(HANG_GUARD, quick()) == 7
    async with asyncio.timeout(HANG_GUARD):
        with pytest.raises(TimeoutError):
            await within(0.01, stubborn())
    assert not finished.is_set()
    release.set()  # the abandoned call was cancelled by nobody: it ends when it can


def test_database_trouble_is_transient_and_bad_data_is_not() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    assert is_transient(ConnectionRefusedError())
    assert is_transient(TimeoutError())
    assert is_transient(OperationalError("SELECT 1", {}, Exception("gone")))
    assert not is_transient(IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not is_transient(ValueError("bad"))


async def test_a_disk_error_stalls_replaying_but_never_ends_it(
    outbox: Outbox, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment that cannot be removed: shown as stalled, retried, nothing stored twice."""
    from ustad.runtime.journal import Journal

    real_remove = Journal.remove
    refusals = 0

    async def stubborn_remove(segment: Path) -> None:
        nonlocal refusals
        if refusals < 3:
            refusals += 1
            raise PermissionError("Operation not permitted")
        await real_remove(segment)

    monkeypatch.setattr(Journal, "remove", staticmethod(stubborn_remove))
    store.mode = "down"
    await outbox.start()
    for n in range(1, 4):
        await outbox.put({"n": n})
    store.mode = "ok"
    await drained(outbox)
    slot = outbox.journal.slot
    assert slot is not None
    await until(lambda: refusals >= 3 and not list(slot.glob("[0-9]*.jsonl")))
    assert store.stored == [1, 2, 3]  # each once, although removal failed three times
    await outbox.put({"n": 4})
    await until(lambda: store.stored[-1:] == [4])
    assert outbox.stats().stalled == 0 and outbox.stats().replayed_total == 4


async def test_a_stopped_process_s_backlog_is_taken_over_while_running(
    tmp_path: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No restart needed: a running process adopts the slot of one that stopped."""
    from ustad.runtime import outbox as outbox_module

    monkeypatch.setattr(outbox_module, "ADOPT_EVERY_SECONDS", 0.01)
    directory = tmp_path / "outbox"
    running = make_outbox(directory, store)
    await running.start()
    stopped_store = FakeStore()
    stopped_store.mode = "down"
    stopped = make_outbox(directory, stopped_store)
    await stopped.start()
    await stopped.put({"n": 7})
    await stopped.put({"n": 8})
    await stopped.stop()  # killed with its backlog on disk
    await until(lambda: store.stored == [7, 8])
    await drained(running)
    await running.stop()


async def test_a_damaged_line_is_counted_lost_and_set_aside(
    tmp_path: Path, store: FakeStore
) -> None:
    directory = tmp_path / "outbox"
    first = make_outbox(directory, store)
    store.mode = "down"
    await first.start()
    await first.put({"n": 1})
    await first.stop()
    (segment,) = (directory / "worker-0").glob("[0-9]*.jsonl")
    with segment.open("ab") as handle:
        handle.write(b'{"n": 2, "broken\n{"n": 3}\n')
    store.mode = "ok"
    again = make_outbox(directory, store)
    await again.start()
    await until(lambda: store.stored == [1, 3])
    assert again.stats().lost_total == 1
    assert "broken" in (directory / "worker-0" / "failed.jsonl").read_text()
    await again.stop()
