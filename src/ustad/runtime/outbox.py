"""The outbox: store writes the database did not take in time, kept on disk and replayed.

A writer that cannot commit in time ``put``\\ s its write (a JSON object) into the
``Journal``; the write is durable when ``put`` returns. A background task started in the
app's lifespan, and at once on start-up for what a previous process left, replays the
entries in order through ``apply``: a transient failure (the database is down, refuses,
times out) is retried with exponential backoff until it succeeds; a permanent one (the
data is refused) is set aside in ``failed.jsonl`` and counted, so one bad entry cannot
hold every later one back. ``apply`` must be idempotent: an entry may be applied again
after a crash between its commit and the removal of its segment, or after an attempt
that timed out here but committed on the server.

While anything is pending, ``held`` is true and writers put new writes behind it rather
than writing directly, so a learner's writes are stored in the order they were made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from ustad.runtime.journal import Journal, segments_of
from ustad.stat_fields import counter, gauge

log = logging.getLogger(__name__)

ADOPT_EVERY_SECONDS = 5.0
"""How often an idle replay task looks for slots of stopped processes to take over."""

T = TypeVar("T")
Apply = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class OutboxStats:
    """The outbox's backlog and what became of its entries."""

    pending: int = field(metadata=gauge("Store writes waiting in the outbox for the database."))
    appended_total: int = field(
        metadata=counter("Store writes put in the outbox (the database did not take them).")
    )
    replayed_total: int = field(metadata=counter("Outbox entries stored by a replay."))
    retries_total: int = field(metadata=counter("Outbox replay attempts that failed, retried."))
    failed_total: int = field(
        metadata=counter("Outbox entries refused for good (set aside in failed.jsonl).")
    )
    lost_total: int = field(
        metadata=counter(
            "Store writes neither stored nor journaled (the disk refused them), or journaled "
            "and found damaged (set aside in failed.jsonl)."
        )
    )
    stalled: int = field(
        metadata=gauge("1 while replaying is held up by a disk error (retried), else 0.")
    )


def is_transient(error: BaseException) -> bool:
    """Whether a store error may go away by itself (the database is down, busy or slow),
    as opposed to data the database refuses (an integrity error, a bad value)."""
    if isinstance(error, sa_exc.IntegrityError):
        return False
    transient = (
        sa_exc.DBAPIError,  # connection refused or lost, statement timeout, ...
        sa_exc.TimeoutError,  # no pooled connection in time
        sa_exc.DisconnectionError,
        OSError,
        TimeoutError,
    )
    return isinstance(error, transient)


async def within(seconds: float, work: Coroutine[Any, Any, T]) -> T:
    """``work``'s result if it finishes within ``seconds``, else ``TimeoutError``.

    Unlike ``asyncio.timeout``, the caller never waits for ``work`` to unwind: a call into a
    hung database may take as long again to give up its connection. ``work`` carries on in
    the background until it ends by itself (the database's own timeouts bound that)."""
    task = asyncio.ensure_future(work)
    # Whoever stops waiting (a timeout, a cancelled caller), the task's end is collected.
    task.add_done_callback(_collect)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        raise TimeoutError(f"not done within {seconds:g} s")
    return task.result()


def _collect(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # marks it retrieved; the waiter, if any, has its own copy


class Outbox:
    """A ``Journal`` under ``directory`` and the task that replays it through ``apply``.

    ``attempt_timeout`` (seconds) bounds each replay attempt; the pause between attempts
    doubles from 0.05 s up to ``retry_max`` seconds.
    """

    def __init__(
        self,
        directory: Path,
        apply: Apply,
        *,
        attempt_timeout: float = 10.0,
        retry_max: float = 5.0,
    ) -> None:
        self.journal = Journal(directory)
        self._apply = apply
        self.attempt_timeout = attempt_timeout
        self.retry_max = retry_max
        self._pending = 0
        self._counts = {"appended": 0, "replayed": 0, "retries": 0, "failed": 0, "lost": 0}
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._task: asyncio.Task[None] | None = None
        self._stalled = False
        self._replayed_segments: set[Path] = set()
        """Segments replayed whose removal failed: not replayed again, removal retried."""
        self._in_segment = False
        """A segment is being replayed and is not yet removed: not empty even at 0 pending."""

    @property
    def pending(self) -> int:
        """Entries put and not yet stored or set aside."""
        return self._pending

    @property
    def held(self) -> bool:
        """Writes are waiting: a new write must queue behind them to keep its order."""
        return self._pending > 0

    async def put(self, entry: dict[str, Any]) -> None:
        """Journal ``entry`` (durable on return) for the replay task; raises ``OSError``
        (counted as lost) when the disk refuses it."""
        self._pending += 1
        self._empty.clear()
        try:
            await self.journal.append(entry)
        except OSError:
            self._counts["lost"] += 1
            self._done()
            raise
        self._counts["appended"] += 1
        self._wake.set()

    def refused(self) -> None:
        """Count a write the store refused for good before it was journaled."""
        self._counts["failed"] += 1

    async def start(self) -> None:
        """Open the journal, count what a previous process left, and start replaying."""
        if self._task is not None:
            return
        segments = await self.journal.open()
        self._pending = await self._count(segments)
        self._in_segment = False
        self._settle()
        if self._pending:
            self._empty.clear()
            log.warning("outbox: %d store writes left from before; replaying", self._pending)
        self._task = asyncio.create_task(self._run(), name="outbox-replay")

    async def stop(self) -> None:
        """Stop replaying; what is left stays on disk for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.journal.close()

    async def wait_empty(self) -> None:
        """Return once nothing is pending and the replayed segments are removed from disk
        (at once if nothing is pending)."""
        await self._empty.wait()

    def stats(self) -> OutboxStats:
        """The backlog and the counts so far."""
        counts = self._counts
        return OutboxStats(
            pending=self._pending,
            appended_total=counts["appended"],
            replayed_total=counts["replayed"],
            retries_total=counts["retries"],
            failed_total=counts["failed"],
            lost_total=counts["lost"],
            stalled=int(self._stalled),
        )

    async def _count(self, segments: list[Path]) -> int:
        total = 0
        for segment in segments:
            entries, _ = await self.journal.read(segment)
            total += len(entries)
        return total

    async def _run(self) -> None:
        """Replay forever. A disk error (a segment that cannot be read or removed) never
        ends the task: it is logged, shown as ``stalled`` and retried after a pause."""
        while True:
            try:
                await self._replay_all()
                self._stalled = False
            except OSError:
                self._stalled = True
                log.exception("outbox: replaying is held up by the disk; retrying")
                await asyncio.sleep(self.retry_max)
                continue
            # Also wake now and then to take over the slots of processes that stopped.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ADOPT_EVERY_SECONDS):
                    await self._wake.wait()

    async def _replay_all(self) -> None:
        """Replay every closed segment, oldest first, then delete it."""
        self._wake.clear()
        adopted = await self.journal.adopt()
        if adopted:
            found = await self._count([p for slot in adopted for p in segments_of(slot)])
            self._pending += found
            if found:
                self._empty.clear()
                log.warning("outbox: %d store writes of a stopped process to replay", found)
        segments = await self.journal.seal()
        # A segment whose removal raised after the file was gone is not listed again.
        self._replayed_segments &= set(segments)
        for segment in segments:
            self._in_segment = True
            self._empty.clear()  # even a segment with no entry left is on disk until removed
            if segment not in self._replayed_segments:
                entries, damaged = await self.journal.read(segment)
                for line in damaged:
                    self._counts["lost"] += 1
                    await self.journal.set_aside({"damaged_line": line})
                for entry in entries:
                    await self._replay(entry)
                self._replayed_segments.add(segment)
            await self.journal.remove(segment)
            self._replayed_segments.discard(segment)
        # Every listed segment is removed (a pass that raised left the flag set until now).
        self._in_segment = False
        self._settle()
        if segments:
            log.info("outbox: replayed up to date (%d stored so far)", self._counts["replayed"])

    async def _replay(self, entry: dict[str, Any]) -> None:
        """Store one entry, retrying transient failures until it is stored."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential_jitter(multiplier=0.05, max=self.retry_max, jitter=0.05),
            before_sleep=self._retrying,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await within(self.attempt_timeout, self._apply(entry))
            self._counts["replayed"] += 1
        except Exception:
            log.exception("outbox: an entry was refused for good; set aside: %s", entry)
            self._counts["failed"] += 1
            try:
                await self.journal.set_aside(entry)
            except OSError:
                log.exception("outbox: could not set the refused entry aside")
        finally:
            self._done()

    def _retrying(self, state: RetryCallState) -> None:
        self._counts["retries"] += 1
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if state.attempt_number == 1 or state.attempt_number % 20 == 0:
            log.warning("outbox: replay attempt %d failed (%r)", state.attempt_number, error)

    def _done(self) -> None:
        self._pending = max(0, self._pending - 1)
        self._settle()

    def _settle(self) -> None:
        """Empty once nothing is pending and no replayed segment is left on disk."""
        if self._pending == 0 and not self._in_segment:
            self._empty.set()
