"""A durable local journal: JSON objects appended as lines, fsync'd, read back in order.

The journal lives in a ``worker-<n>`` slot of its directory, held with an exclusive
``flock`` while the process runs, so several server processes can share one directory
and a restarted process takes over whatever a stopped one left behind.

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
        self._lock_file: IO[bytes] | None = None
        self._current: IO[bytes] | None = None
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
                lock_file = (slot / ".lock").open("ab")
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    lock_file.close()
                    continue
                self.slot, self._lock_file = slot, lock_file
                segments = self._segments()
                self._next_number = int(segments[-1].stem) + 1 if segments else 0
                return segments
        except OSError as error:
            raise JournalError(f"cannot open the journal in {self.directory}: {error}") from error
        raise JournalError(f"all {MAX_SLOTS} slots of {self.directory} are in use")

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
            self._current = path.open("ab")
            _fsync_dir(self.slot)
        self._current.write(line)
        self._current.flush()
        os.fsync(self._current.fileno())

    async def seal(self) -> list[Path]:
        """Close the segment being written; every closed segment, oldest first."""
        async with self._write_lock:
            current, self._current = self._current, None
            if current is not None:
                await asyncio.to_thread(current.close)
            # Listed under the lock: a segment an append opens next is not closed yet.
            return await asyncio.to_thread(self._segments)

    def _segments(self) -> list[Path]:
        if self.slot is None:
            return []
        return sorted(self.slot.glob(f"[0-9]*{SEGMENT_SUFFIX}"), key=lambda p: int(p.stem))

    @staticmethod
    async def read(segment: Path) -> list[dict[str, Any]]:
        """The entries of a closed segment, in order (unreadable lines are logged, skipped)."""
        return await asyncio.to_thread(_read, segment)

    @staticmethod
    async def remove(segment: Path) -> None:
        """Delete a segment whose entries are all dealt with."""
        await asyncio.to_thread(_remove, segment)

    async def close(self) -> None:
        """Close the open segment and give the slot back (the files stay)."""
        async with self._write_lock:
            for handle in (self._current, self._lock_file):
                if handle is not None:
                    await asyncio.to_thread(handle.close)
            self._current = self._lock_file = None
            self.slot = None


def _line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _write_synced(path: Path, line: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _read(segment: Path) -> list[dict[str, Any]]:
    entries = []
    with segment.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                entry = json.loads(line)
            except ValueError:
                log.error("skipped an unreadable line %d of %s", number, segment.name)
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


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
