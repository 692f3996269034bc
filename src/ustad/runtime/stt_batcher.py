"""Cross-session micro-batching of speech recognition.

Learners who finish speaking at about the same moment can share one batched
Whisper call instead of queueing for the engine threads one after another.
``SttBatcher.transcribe`` puts a request into the pending batch of its kind (same
engine, language, task and word timings); the batch goes to the engine executor
when it holds ``max_batch_size`` requests or ``max_wait`` after its first request,
whichever comes first. Each caller gets its own transcript or its own exception.

Whether it pays depends on the hardware; see ``SttSettings.batch_max_size`` for
what was measured and the default that follows from it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ustad.runtime.executor import EngineExecutor
from ustad.speech.types import Audio, Task, Transcript

log = logging.getLogger(__name__)


@runtime_checkable
class BatchTranscriber(Protocol):
    """A recogniser that can also decode several utterances in one blocking call."""

    name: str

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
    ) -> Transcript:
        """One utterance, the reference path (with every retry the engine has)."""
        ...

    def can_batch(self, *, language: str | None, task: Task) -> bool:
        """Whether requests like this may share a batch at all."""
        ...

    def transcribe_batch(
        self,
        audios: Sequence[Audio],
        *,
        language: str | None,
        task: Task,
        word_timestamps: bool,
    ) -> Sequence[Transcript | None]:
        """One result per utterance, in order; ``None`` where only ``transcribe`` can decide."""
        ...


@dataclass(frozen=True)
class BatcherStats:
    """What the batcher has done since start."""

    max_batch_size: int
    max_wait_seconds: float
    batches: int
    """Batches dispatched (a batch of one is run as a single call)."""
    items: int
    """Requests that went through a batch."""
    rerun_singly: int
    """Batched requests run again on the single path: those the batch could not settle
    (e.g. Whisper's temperature fallback) and every request of a failed batch."""
    failed_batches: int
    """Batched calls that raised as a whole; their requests were then run singly."""
    unbatched: int
    """Requests that can never be batched (e.g. language detection), run singly at once."""

    @property
    def mean_batch_size(self) -> float:
        """Requests per dispatched batch (0 before the first)."""
        return self.items / self.batches if self.batches else 0.0


@dataclass(frozen=True)
class _Key:
    engine: int
    """``id()`` of the engine: engines need not be hashable, and the pending batch
    holds the engine itself, so the id cannot be reused while the key is in use."""
    language: str | None
    task: Task
    word_timestamps: bool


@dataclass(eq=False)
class _Waiter:
    audio: Audio
    future: asyncio.Future[Transcript]


@dataclass
class _Pending:
    engine: BatchTranscriber
    waiters: list[_Waiter] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class SttBatcher:
    """Groups concurrent transcriptions into batches run on the engine executor.

    All bookkeeping happens on the event loop thread (no locks); only the engine
    calls run on executor threads.
    """

    def __init__(self, executor: EngineExecutor, *, max_batch_size: int, max_wait: float) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if max_wait < 0:
            raise ValueError(f"max_wait must not be negative, got {max_wait}")
        self.executor = executor
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self._pending: dict[_Key, _Pending] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._batches = 0
        self._items = 0
        self._rerun = 0
        self._failed = 0
        self._unbatched = 0

    async def transcribe(
        self,
        engine: BatchTranscriber,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
    ) -> Transcript:
        """This utterance's transcript, decoded in a batch with others when there are any."""
        if self.max_batch_size == 1 or not engine.can_batch(language=language, task=task):
            self._unbatched += 1
            return await self.executor.run(_single(engine, audio, language, task, word_timestamps))
        loop = asyncio.get_running_loop()
        key = _Key(id(engine), language, task, word_timestamps)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(engine)
            pending.timer = loop.call_later(self.max_wait, self._dispatch, key, pending)
        waiter = _Waiter(audio, loop.create_future())
        pending.waiters.append(waiter)
        if len(pending.waiters) >= self.max_batch_size:
            self._dispatch(key, pending)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            # Its learner left: only this request is dropped. A batch not yet
            # dispatched forgets it; one already running discards its result.
            self._forget(key, pending, waiter)
            raise

    def stats(self) -> BatcherStats:
        """Counters since start."""
        return BatcherStats(
            max_batch_size=self.max_batch_size,
            max_wait_seconds=self.max_wait,
            batches=self._batches,
            items=self._items,
            rerun_singly=self._rerun,
            failed_batches=self._failed,
            unbatched=self._unbatched,
        )

    @property
    def pending(self) -> int:
        """Requests waiting for their batch to be dispatched."""
        return sum(len(p.waiters) for p in self._pending.values())

    def _forget(self, key: _Key, pending: _Pending, waiter: _Waiter) -> None:
        if self._pending.get(key) is not pending:
            return  # dispatched already
        pending.waiters.remove(waiter)
        if not pending.waiters:
            del self._pending[key]
            if pending.timer is not None:
                pending.timer.cancel()

    def _dispatch(self, key: _Key, pending: _Pending) -> None:
        if self._pending.get(key) is not pending:  # gone already (the other trigger)
            return
        del self._pending[key]
        if pending.timer is not None:
            pending.timer.cancel()
        waiters = [w for w in pending.waiters if not w.future.done()]
        if not waiters:
            return
        self._batches += 1
        self._items += len(waiters)
        task = asyncio.get_running_loop().create_task(self._run(pending.engine, key, waiters))
        # The loop keeps only weak references to tasks: hold it until it is done.
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, engine: BatchTranscriber, key: _Key, waiters: list[_Waiter]) -> None:
        try:
            if len(waiters) == 1:
                await self._single(engine, key, waiters[0])
                return
            audios = [w.audio for w in waiters]
            try:
                results: Sequence[Transcript | None] = await self.executor.run(
                    lambda: engine.transcribe_batch(
                        audios,
                        language=key.language,
                        task=key.task,
                        word_timestamps=key.word_timestamps,
                    )
                )
                if len(results) != len(waiters):
                    raise RuntimeError(
                        f"{engine.name}: {len(results)} results for {len(waiters)} utterances"
                    )
            except Exception:
                log.exception(
                    "%s: batch of %d failed; running each alone", engine.name, len(audios)
                )
                self._failed += 1
                results = [None] * len(waiters)
            rerun: list[_Waiter] = []
            for waiter, result in zip(waiters, results, strict=True):
                if result is None:
                    rerun.append(waiter)
                elif not waiter.future.done():
                    waiter.future.set_result(result)
            self._rerun += len(rerun)
            await asyncio.gather(*(self._single(engine, key, w) for w in rerun))
        finally:
            # Only if this task itself was cancelled (shutdown) can a waiter be left.
            for waiter in waiters:
                if not waiter.future.done():
                    waiter.future.cancel()

    async def _single(self, engine: BatchTranscriber, key: _Key, waiter: _Waiter) -> None:
        """Run one waiter's request on the single path; its error is its own."""
        if waiter.future.done():  # its caller is gone
            return
        call = _single(engine, waiter.audio, key.language, key.task, key.word_timestamps)
        try:
            result = await self.executor.run(call)
        except Exception as error:
            if not waiter.future.done():
                waiter.future.set_exception(error)
        else:
            if not waiter.future.done():
                waiter.future.set_result(result)


def _single(
    engine: BatchTranscriber,
    audio: Audio,
    language: str | None,
    task: Task,
    word_timestamps: bool,
) -> Callable[[], Transcript]:
    return lambda: engine.transcribe(
        audio, language=language, task=task, word_timestamps=word_timestamps
    )
