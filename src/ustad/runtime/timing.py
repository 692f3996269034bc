"""Stage timings of one turn (sent to the client in ``timings`` and logged)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

STAGES = ("decode", "vad", "stt", "translate", "assess", "store", "tts")
"""Stages in the order a turn normally runs them."""

ENGINE = "engine"
"""``timings`` key: wall time during which at least one of the turn's engine calls ran."""
QUEUE = "queue"
"""``timings`` key: wall time waiting for an engine thread, none of the turn's calls running."""
SHARED = "shared"
"""``timings`` key: wall time awaiting a computation another caller in this process
started (the same sentence's translation or speech already in flight for another turn,
phrase pre-generation or a REST request, which this turn joined instead of computing it
again, or another worker's through the shared tier, Redis), none of the turn's own
calls waiting or running."""
OVERHEAD = "overhead"
"""``timings`` key: the rest of ``total``: ustad's own code and the event loop (the
turn's store writes run beside its reply, outside ``total``)."""
TOTAL = "total"

CURRENT_TURN: ContextVar[TurnTimer | None] = ContextVar("ustad_current_turn", default=None)
"""The turn whose engine calls the executor is running (set per task, never shared)."""


class TurnTimer:
    """Measures named stages of one turn in milliseconds, and its engine time.

    A stage entered twice accumulates (e.g. two TTS calls). Stages that run
    concurrently are each timed on their own, so their sum can exceed ``total``.
    Engine calls and waits on shared work are kept as intervals, and overlapping ones
    count once, so ``engine + queue + shared + overhead == total`` however they
    overlapped.
    """

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._stages: dict[str, float] = {}
        self._calls: list[tuple[float, float, float]] = []
        self._shared: list[tuple[float, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body as stage ``name``."""
        begin = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - begin) * 1000.0
            self._stages[name] = self._stages.get(name, 0.0) + elapsed

    @contextmanager
    def current(self) -> Iterator[None]:
        """Make this the turn whose engine calls are counted, for the body's tasks."""
        token = CURRENT_TURN.set(self)
        try:
            yield
        finally:
            CURRENT_TURN.reset(token)

    def add(self, name: str, milliseconds: float) -> None:
        """Record time measured elsewhere (e.g. inside a worker thread)."""
        self._stages[name] = self._stages.get(name, 0.0) + milliseconds

    def engine_call(self, submitted: float, started: float, ended: float) -> None:
        """One engine call of this turn: ``perf_counter`` times it was submitted,
        began running and ended."""
        self._calls.append((submitted, started, ended))

    def shared_wait(self, began: float, ended: float) -> None:
        """This turn awaited another turn's computation from ``began`` to ``ended``
        (``perf_counter`` times)."""
        self._shared.append((began, ended))

    @property
    def started(self) -> float:
        """``perf_counter`` time the turn began."""
        return self._started

    def total_ms(self) -> float:
        """Milliseconds since the timer started."""
        return (time.perf_counter() - self._started) * 1000.0

    def as_dict(self) -> dict[str, float]:
        """Stages (rounded to 0.1 ms), then ``engine``, ``queue``, ``shared``,
        ``overhead`` and ``total``."""
        out = {name: round(ms, 1) for name, ms in self._stages.items()}
        total = self.total_ms()
        running = _union_ms((start, end) for _, start, end in self._calls)
        own = [(submitted, end) for submitted, _, end in self._calls]
        busy = _union_ms(own)
        waiting = _union_ms(own + self._shared)
        out[ENGINE] = round(running, 1)
        out[QUEUE] = round(busy - running, 1)
        out[SHARED] = round(waiting - busy, 1)
        out[OVERHEAD] = round(max(0.0, total - waiting), 1)
        out[TOTAL] = round(total, 1)
        return out


def shared_since(began: float) -> None:
    """The current turn (if any) awaited another's computation from ``began``
    (``perf_counter``) until now: its ``shared`` time."""
    turn = CURRENT_TURN.get()
    if turn is not None:
        turn.shared_wait(began, time.perf_counter())


async def joining(
    load: Callable[[Callable[[], Awaitable[T]]], Awaitable[T]],
    compute: Callable[[], Awaitable[T]],
) -> T:
    """``load(compute)``, where ``load`` is a single-flight cache's get (such as
    ``lambda c: cache.get_or_compute(key, c)``): the time this caller awaited a value
    another caller was computing is the current turn's ``shared`` time, whether that
    computation ended in a value or an error, or was cancelled and this caller took it
    over (the wait before it did)."""
    turn = CURRENT_TURN.get()
    if turn is None:
        return await load(compute)
    computed = False
    began = time.perf_counter()

    async def own() -> T:
        nonlocal computed
        computed = True
        turn.shared_wait(began, time.perf_counter())  # microseconds unless taken over
        return await compute()

    try:
        return await load(own)
    finally:
        if not computed:
            turn.shared_wait(began, time.perf_counter())


def _union_ms(intervals: Iterable[tuple[float, float]]) -> float:
    """Milliseconds covered by at least one of the (start, end) intervals (in seconds)."""
    covered = 0.0
    reach = float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        covered += end - max(start, reach)
        reach = end
    return covered * 1000.0
