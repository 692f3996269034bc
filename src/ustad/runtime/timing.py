"""Stage timings of one turn (sent to the client in ``timings`` and logged)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("decode", "vad", "stt", "translate", "assess", "store", "tts")
"""Stages in the order a turn normally runs them."""


class TurnTimer:
    """Measures named stages of one turn in milliseconds.

    A stage entered twice accumulates (e.g. two TTS calls). Stages that run
    concurrently are each timed on their own, so their sum can exceed ``total``.
    """

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body as stage ``name``."""
        begin = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - begin) * 1000.0
            self._stages[name] = self._stages.get(name, 0.0) + elapsed

    def add(self, name: str, milliseconds: float) -> None:
        """Record time measured elsewhere (e.g. inside a worker thread)."""
        self._stages[name] = self._stages.get(name, 0.0) + milliseconds

    def total_ms(self) -> float:
        """Milliseconds since the timer started."""
        return (time.perf_counter() - self._started) * 1000.0

    def as_dict(self) -> dict[str, float]:
        """Stages (rounded to 0.1 ms) plus ``total``."""
        out = {name: round(ms, 1) for name, ms in self._stages.items()}
        out["total"] = round(self.total_ms(), 1)
        return out
