"""Settings of the performance layer (``USTAD_RUNTIME__*``): engine threads, caches,
admission.

Sizes that depend on the machine (engine threads, turns admitted at once) default to
values derived from the cores this process may use (``ustad.cpu_budget``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ustad.cpu_budget import MAX_ENGINE_WORKERS, usable_cores

TURNS_IN_FLIGHT_PER_ENGINE_THREAD = 6
"""Learners' turns admitted at once per engine thread when ``max_turns_in_flight`` is
unset. A turn's engine calls run one after another on one thread (0.7-0.9 s of engine
time per turn at 16 learners on 2 cores in the bench runs of docs/BENCHMARKS.md), so the
last turn admitted waits for about this many turns per thread, whatever the core count:
12 on 2 cores, the fixed default it replaces. Measured there at 16 learners, 16 or no
limit instead of 12 answered no turn ``busy`` but made no more cycles per minute, with a
higher Urdu p95 (34.0 and 32.6 against 36.0 on seed 11; 39.9 and 39.8 against 40.9 on seed 7;
docs/BENCHMARKS.md, "The turns admitted at once")."""


class RuntimeSettings(BaseModel):
    """The performance layer."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    mode: Literal["optimised", "baseline"] = "optimised"
    """``baseline`` reproduces the naive design ustad is measured against: stages strictly
    sequential, no caches, no pre-generation, no disk store, Whisper's full 30 s window
    (no encoder reuse, no quick language look), target support with its prompted
    decoding and phone evidence asked on every flagged attempt (no
    ``assessment.*support_min_overall``), engine calls blocking the event loop. For
    benchmarks only."""
    executor_workers: int = Field(default=0, ge=0, le=MAX_ENGINE_WORKERS)
    """Threads that run blocking engine calls (never the event loop); 0 = one per core
    this process may use (``engine_workers``). With ``stt.cpu_threads`` 1 that keeps
    every core busy once as many calls wait, and no more threads than cores compete. On
    2 cores that is 2, as the former fixed default was; measured there, a third thread
    (3 x 1) gave no better p95 at 16 learners (docs/BENCHMARKS.md, "Where the time
    goes"). Capped at 64."""

    @property
    def engine_workers(self) -> int:
        """``executor_workers``, or for 0 the cores this process may use
        (``ustad.cpu_budget.usable_cores``: affinity and cgroup quota), at most 64."""
        return self.executor_workers or min(MAX_ENGINE_WORKERS, usable_cores())

    oldest_turn_first: bool = True
    """Engine calls of learners' turns wait in the order their turns began, not in the
    order the calls came, so the oldest turn in flight is finished first
    (``ustad.runtime.executor``). At 16 learners, Urdu p95 6.7 / 8.0 s (two workloads)
    against 9.5 / 9.6 in call order, English 7.9 / 8.8 against 10.8 / 10.8
    (docs/BENCHMARKS.md, "Where the time goes")."""
    io_workers: int = Field(default=2, ge=1, le=16)
    """Threads for the disk audio store's reads and writes, apart from the engine threads
    so a reply on disk is never kept waiting behind speech recognition."""
    tts_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    """Memory budget of the synthesised-speech caches (0 disables)."""
    translation_cache_entries: int = Field(default=10_000, ge=0)
    """Entries kept in the translation cache (0 disables)."""
    pregenerate: bool = True
    """Synthesise the fixed replies once at start-up."""
    rest_concurrency: int = Field(default=1, ge=1)
    """REST requests that run engines (speech, transcription, assessment) at once, so they
    never hold every engine thread the learners' turns need."""
    rest_queue: int = Field(default=4, ge=0)
    """REST engine requests that may wait for a slot; past it they get 503 with
    ``Retry-After`` at once."""
    rest_yield_seconds: float = Field(default=10.0, ge=0.0, le=120.0)
    """How long a REST engine request with a slot waits for the learners' turns in flight
    to finish before it runs anyway (learners first; REST never starved)."""
    max_turns_in_flight: int | None = Field(default=None, ge=0)
    """Utterances processed at once (all sessions); past it a turn gets an ``error``
    with code ``busy`` at once instead of unbounded latency (0 = no limit). Unset: 6 per
    engine thread (``USTAD_RUNTIME__EXECUTOR_WORKERS``, one per core by default), so 12
    on 2 cores, the former fixed default."""

    @property
    def turns_in_flight_limit(self) -> int:
        """``max_turns_in_flight``, or when unset ``TURNS_IN_FLIGHT_PER_ENGINE_THREAD`` per
        engine thread (``engine_workers``); 0 means no limit."""
        if self.max_turns_in_flight is not None:
            return self.max_turns_in_flight
        return TURNS_IN_FLIGHT_PER_ENGINE_THREAD * self.engine_workers
