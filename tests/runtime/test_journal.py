"""The journal: lines on disk, in order, found again by the next process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ustad.runtime.journal import SET_ASIDE, Journal


async def test_entries_come_back_in_order_across_segments(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    await journal.append({"n": 1, "text": "مجھے پانی چاہیے"})
    await journal.append({"n": 2})
    first = await journal.seal()
    await journal.append({"n": 3})
    both = await journal.seal()
    assert len(first) == 1 and both[0] == first[0] and len(both) == 2
    read = [entry for segment in both for entry in (await Journal.read(segment))[0]]
    assert read == [{"n": 1, "text": "مجھے پانی چاہیے"}, {"n": 2}, {"n": 3}]
    for segment in both:
        await Journal.remove(segment)
    assert await journal.seal() == []
    await journal.close()


async def test_the_next_process_finds_what_was_left(tmp_path: Path) -> None:
    before = Journal(tmp_path)
    await before.append({"n": 1})
    await before.close()  # the process stops

    after = Journal(tmp_path)
    segments = await after.open()
    assert [(await Journal.read(segment))[0] for segment in segments] == [[{"n": 1}]]
    await after.append({"n": 2})  # a new segment after the old ones
    later = await after.seal()
    assert [(await Journal.read(segment))[0] for segment in later] == [[{"n": 1}], [{"n": 2}]]
    await after.close()


async def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    await journal.append({"n": 1})
    (segment,) = await journal.seal()
    with segment.open("ab") as handle:
        handle.write(b'{"n": 2, "te')
    assert await Journal.read(segment) == ([{"n": 1}], [])
    await journal.close()


async def test_two_processes_take_separate_slots(tmp_path: Path) -> None:
    one, two = Journal(tmp_path), Journal(tmp_path)
    await one.open()
    await two.open()
    assert one.slot is not None and two.slot is not None and one.slot != two.slot
    await one.close()
    three = Journal(tmp_path)
    await three.open()
    assert three.slot == tmp_path / "worker-0"  # the slot a stopped process gave back
    for journal in (two, three):
        await journal.close()


async def test_entries_set_aside_are_not_replayed(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    await journal.open()
    await journal.set_aside({"n": 9})
    assert await journal.seal() == []
    assert journal.slot is not None
    assert await Journal.read(journal.slot / SET_ASIDE) == ([{"n": 9}], [])
    await journal.close()


async def test_sealing_while_appending_loses_nothing(tmp_path: Path) -> None:
    """A reader that seals, reads and removes while writers append sees every entry once
    (it once listed the segment still being written and removed it half-read)."""
    journal = Journal(tmp_path)
    await journal.open()
    count = 200
    seen: list[int] = []
    done = False

    async def writer() -> None:
        nonlocal done
        for n in range(count):
            await journal.append({"n": n})
        done = True

    async def reader() -> None:
        while True:
            finished = done  # read before sealing: nothing is appended after it was set
            for segment in await journal.seal():
                seen.extend(entry["n"] for entry in (await Journal.read(segment))[0])
                await Journal.remove(segment)
            if finished:
                return

    await asyncio.gather(writer(), reader())
    assert seen == list(range(count))
    await journal.close()


async def test_a_process_takes_over_the_slots_of_stopped_ones_only(tmp_path: Path) -> None:
    first, second, running = Journal(tmp_path), Journal(tmp_path), Journal(tmp_path)
    for n, journal in enumerate((first, second, running)):
        await journal.append({"n": n})
    await first.close()
    await second.close()  # two workers stop; one is still running

    restarted = Journal(tmp_path)
    segments = await restarted.open()
    assert restarted.slot == tmp_path / "worker-0"
    read = [entry["n"] for segment in segments for entry in (await Journal.read(segment))[0]]
    # Its own slot's and the stopped worker-1's, not the running one's. (Order across slots
    # is free: a session's writes are all in the slot of the process that served it.)
    assert sorted(read) == [0, 1]
    await restarted.close()
    await running.close()


async def test_a_write_the_disk_refuses_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC half-way through a line: the half is cut off again, and the entry, counted
    lost by its caller, never turns up later."""
    import errno
    import os

    from ustad.runtime import journal as journal_module

    journal = Journal(tmp_path)
    await journal.append({"n": 1})
    real_write = os.write

    def full_disk(fd: int, data: bytes) -> int:
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", full_disk)
    with pytest.raises(OSError, match="No space"):
        await journal.append({"n": 2, "text": "x" * 100})
    monkeypatch.setattr(journal_module.os, "write", real_write)
    await journal.append({"n": 3})
    segments = await journal.seal()
    entries = [e for segment in segments for e in (await Journal.read(segment))[0]]
    damaged = [d for segment in segments for d in (await Journal.read(segment))[1]]
    assert entries == [{"n": 1}, {"n": 3}] and damaged == []
    await journal.close()


async def test_a_damaged_line_inside_a_segment_is_reported(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    await journal.append({"n": 1})
    (segment,) = await journal.seal()
    with segment.open("ab") as handle:
        handle.write(b'{"n": 2, "te\n{"n": 3}\n')
    assert await Journal.read(segment) == ([{"n": 1}, {"n": 3}], ['{"n": 2, "te'])
    await journal.close()
