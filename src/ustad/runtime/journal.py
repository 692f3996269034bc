"""A durable local journal: JSON objects appended as lines, fsync'd, read back in order.

The journal lives in a ``worker-<n>`` slot of its directory, held with an exclusive
``flock`` while the process runs, so several server processes can share one directory.
A process also adopts (locks and reads first) every other slot no running process
holds, so whatever a stopped process left is taken over even if fewer come back.

Entries go into numbered segment files (``<number>.jsonl``). The reader ``seal``\\ s the
segment being written, so appends carry on into a new one while it reads the sealed
ones; a sealed segment is deleted once everything in it has been dealt with. A line cut
short by a crash during its write was never acknowledged to anyone, so it is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".jsonl"
SET_ASIDE = "failed.jsonl"
"""Entries that can never be stored, kept for a person to look at (never replayed)."""
MAX_SLOTS = 256
"""Most processes that may share one journal directory."""


class JournalError(OSError):
    """The journal cannot be opened (every slot taken, or the directory is not writable)."""


class Journal:
    """Append-only JSON lines under ``directory`` (created on ``open``).

    All methods are coroutines; file work runs in a thread so a slow disk never stalls the
    event loop. ``append`` returns only once the entry is on disk (``fsync``).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.slot: Path | None = None
        self._adopted: list[Path] = []
        """Slots of stopped processes, read before ``slot``."""
        self._locks: list[IO[bytes]] = []
        self._current: int | None = None
        """File descriptor of the segment being written (unbuffered: a failed write
        leaves nothing behind to be flushed later)."""
        self._next_number = 0
        self._write_lock = asyncio.Lock()

    async def open(self) -> list[Path]:
        """Take a free slot (once); the segments in it, oldest first (raises ``JournalError``)."""
        async with self._write_lock:
            if self.slot is None:
                return await asyncio.to_thread(self._open)
            return await asyncio.to_thread(self._segments)

    def _open(self) -> list[Path]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for number in range(MAX_SLOTS):
                slot = self.directory / f"worker-{number}"
                slot.mkdir(exist_ok=True)
                if self._lock(slot):
                    self.slot = slot
                    break
            else:
                raise JournalError(f"all {MAX_SLOTS} slots of {self.directory} are in use")
            for other in sorted(self.directory.glob("worker-*")):
                if other != self.slot and segments_of(other) and self._lock(other):
                    self._adopted.append(other)
        except JournalError:
            raise
        except OSError as error:
            raise JournalError(f"cannot open the journal in {self.directory}: {error}") from error
        own = segments_of(self.slot)
        self._next_number = int(own[-1].stem) + 1 if own else 0
        if self._adopted:
            log.warning("journal: took over %s", ", ".join(s.name for s in self._adopted))
        return self._segments()

    async def adopt(self) -> list[Path]:
        """Take over the slots of processes that stopped since ``open`` (their segments
        join the ones ``seal`` lists); returns the slots newly taken."""
        async with self._write_lock:
            if self.slot is None:
                return []
            return await asyncio.to_thread(self._adopt)

    def _adopt(self) -> list[Path]:
        taken = []
        for other in sorted(self.directory.glob("worker-*")):
            if other == self.slot or other in self._adopted or not segments_of(other):
                continue
            if self._lock(other):
                self._adopted.append(other)
                taken.append(other)
        if taken:
            log.warning("journal: took over %s", ", ".join(s.name for s in taken))
        return taken

    def _lock(self, slot: Path) -> bool:
        """Lock ``slot`` for this process unless another holds it."""
        lock_file = (slot / ".lock").open("ab")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            return False
        self._locks.append(lock_file)
        return True

    async def append(self, entry: dict[str, Any]) -> None:
        """Write ``entry`` as one line and ``fsync`` it, opening the journal first if needed
        (raises ``OSError`` if it cannot)."""
        async with self._write_lock:
            if self.slot is None:
                await asyncio.to_thread(self._open)
            await asyncio.to_thread(self._append, _line(entry))

    async def set_aside(self, entry: dict[str, Any]) -> None:
        """Keep an entry that will never be stored in ``failed.jsonl`` of the slot."""
        async with self._write_lock:
            if self.slot is None:
                raise JournalError("the journal is not open")
            await asyncio.to_thread(_write_synced, self.slot / SET_ASIDE, _line(entry))

    def _append(self, line: bytes) -> None:
        assert self.slot is not None
        if self._current is None:
            path = self.slot / f"{self._next_number:012d}{SEGMENT_SUFFIX}"
            self._next_number += 1
            self._current = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            _fsync_dir(self.slot)
        fd = self._current
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            written = 0
            while written < len(line):
                written += os.write(fd, line[written:])
            os.fsync(fd)
        except OSError:
            # Nothing of a refused entry may stay (it would surface as a half line, or be
            # stored later although counted lost); the next entry starts a new segment.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            self._current = None
            with contextlib.suppress(OSError):
                os.close(fd)
            raise

    async def seal(self) -> list[Path]:
        """Close the segment being written; every closed segment, oldest first."""
        async with self._write_lock:
            current, self._current = self._current, None
            if current is not None:
                await asyncio.to_thread(os.close, current)
            # Listed under the lock: a segment an append opens next is not closed yet.
            return await asyncio.to_thread(self._segments)

    def _segments(self) -> list[Path]:
        """Closed segments: the adopted slots' first, then this process's, each in order."""
        if self.slot is None:
            return []
        return [path for slot in (*self._adopted, self.slot) for path in segments_of(slot)]

    @staticmethod
    async def read(segment: Path) -> tuple[list[dict[str, Any]], list[str]]:
        """The entries of a closed segment, in order, and its damaged lines (logged).

        A last line without its newline was cut short by a crash while it was written,
        so it was never acknowledged: it is dropped, not reported."""
        return await asyncio.to_thread(_read, segment)

    @staticmethod
    async def remove(segment: Path) -> None:
        """Delete a segment whose entries are all dealt with."""
        await asyncio.to_thread(_remove, segment)

    async def close(self) -> None:
        """Close the open segment and give the slot back (the files stay)."""
        async with self._write_lock:
            if self._current is not None:
                await asyncio.to_thread(os.close, self._current)
            for handle in self._locks:
                await asyncio.to_thread(handle.close)
            self._current, self._locks, self._adopted = None, [], []
            self.slot = None


def segments_of(slot: Path) -> list[Path]:
    """The segment files of a slot, oldest first."""
    return sorted(slot.glob(f"[0-9]*{SEGMENT_SUFFIX}"), key=lambda p: int(p.stem))


def _line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _write_synced(path: Path, line: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _read(segment: Path) -> tuple[list[dict[str, Any]], list[str]]:
    entries: list[dict[str, Any]] = []
    damaged: list[str] = []
    with segment.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                log.warning("dropped a line cut short in %s (never acknowledged)", segment.name)
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                entries.append(entry)
            else:
                log.error("line %d of %s is damaged; set aside", number, segment.name)
                damaged.append(line.decode("utf-8", errors="replace").rstrip("\n"))
    return entries, damaged


def _remove(segment: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        segment.unlink()
    _fsync_dir(segment.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a file's creation or removal in ``directory`` durable too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
