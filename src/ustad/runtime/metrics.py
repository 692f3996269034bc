"""Per-app service metrics: Prometheus series and the facts behind ``/v1/stats``.

Each ``ServiceMetrics`` owns its own ``CollectorRegistry``. The process-wide
default registry would make two apps in one process (the test suite builds many)
fight over the same metric names, and would leak one app's numbers into another.

Two kinds of numbers live here. Things that happen (turns, stage durations,
event-loop lag) are pushed into histograms and counters as they happen. Things
that already have counters elsewhere (engine calls, cache and executor
statistics) are read at scrape time from ``SpeechService.stats()``, the snapshot
``/health`` and ``/v1/stats`` show too, and rendered generically from its field
markers (``ustad.stat_fields``): one source of truth, nothing to keep in step.
"""

from __future__ import annotations

import os
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector
from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge as PromGauge
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from ustad.runtime.loop_monitor import EventLoopLagMonitor, SampleWindow
from ustad.runtime.outbox import Outbox, OutboxStats
from ustad.runtime.redis_tier import SharedLimitStats
from ustad.runtime.remote_metrics import RemoteCollector, remote_json
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.speech_stats import SpeechStats
from ustad.runtime.timing import ENGINE, OVERHEAD, QUEUE, SHARED, TOTAL
from ustad.speech.remote import ProviderStats
from ustad.stat_fields import Section, record_json, sections_of, series_of, to_json

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a cached reply takes a few milliseconds, a long Urdu utterance tens of seconds."""

OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.5, 2.5, 10.0)
"""Seconds: ustad's own share of a turn is milliseconds; queueing can reach seconds."""

LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds: a healthy loop lags about a millisecond; anything near 100 ms is felt."""

TURN_PARTS = (ENGINE, QUEUE, SHARED, OVERHEAD)
"""Timings keys that split ``total`` into engine compute, queueing, awaiting another
turn's computation and ustad's own time."""


OUTBOX_SECTION = Section("record", "ustad_outbox", None, "store outbox", OutboxStats)
"""How the outbox's ``OutboxStats`` are named in Prometheus (``ustad_outbox_pending`` ...)."""

LIMITS_SECTION = Section(
    "record", "ustad_shared_limits", None, "shared rate limits and session cap", SharedLimitStats
)
"""How ``SharedLimitStats`` are named in Prometheus (no samples without the shared tier)."""


class LiveStateCollector:
    """Renders the speech layer's ``SpeechStats`` as metric families at scrape time.

    Every section of the snapshot becomes families by its marker (see
    ``ustad.stat_fields``), so nothing here names a cache, a counter or a field.
    """

    def __init__(
        self,
        speech: SpeechService | None,
        outbox: Outbox | None = None,
        limits: Callable[[], SharedLimitStats | None] | None = None,
    ) -> None:
        self._speech = speech
        self._outbox = outbox
        self._limits = limits

    def describe(self) -> Iterable[Metric]:
        """The families, without samples (lets the registry check names up front)."""
        return list(self._families(None))

    def collect(self) -> Iterable[Metric]:
        """The families with current values."""
        speech = self._speech
        return list(self._families(speech.stats() if speech is not None else None))

    def _families(self, snapshot: SpeechStats | None) -> Iterator[Metric]:
        for name, section in sections_of(SpeechStats):
            value = getattr(snapshot, name) if snapshot is not None else None
            yield from section_families(section, value)
        if self._outbox is not None:
            outbox = self._outbox.stats() if snapshot is not None else None
            yield from section_families(OUTBOX_SECTION, outbox)
        if self._limits is not None:
            limits = self._limits() if snapshot is not None else None
            yield from section_families(LIMITS_SECTION, limits)


def section_families(section: Section, value: Any) -> Iterator[Metric]:
    """The metric families of one snapshot section (``value`` ``None``: no samples)."""
    if section.kind == "tally":
        assert section.label is not None
        tally = CounterMetricFamily(section.metric, section.doc, labels=[section.label])
        for kind, count in sorted((value or {}).items()):
            tally.add_metric([kind], count)
        yield tally
        return
    assert section.record_type is not None
    for series in series_of(section.record_type):
        family_type: type[CounterMetricFamily | GaugeMetricFamily] = (
            CounterMetricFamily if series.kind == "counter" else GaugeMetricFamily
        )
        name = f"{section.metric}_{series.suffix}"
        if section.kind == "record":
            single = None if value is None else float(getattr(value, series.field))
            yield family_type(name, series.help(section), value=single)
            continue
        assert section.label is not None
        family = family_type(name, series.help(section), labels=[section.label])
        for row in value or ():
            family.add_metric([row.name], float(getattr(row, series.field)))
        yield family


@dataclass(frozen=True)
class ProcessUsage:
    """CPU time and memory of this process."""

    cpu_user_seconds: float
    cpu_system_seconds: float
    rss_bytes: int | None
    """Resident set size now (``None`` where /proc is missing)."""
    max_rss_bytes: int

    @property
    def cpu_seconds(self) -> float:
        """User plus system CPU seconds."""
        return self.cpu_user_seconds + self.cpu_system_seconds


def process_usage() -> ProcessUsage:
    """This process's CPU seconds and memory, from ``resource`` and /proc."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss: int | None = None
    try:
        # statm's second field is resident pages; getrusage only has the peak.
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
        rss = resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        rss = None
    return ProcessUsage(
        cpu_user_seconds=usage.ru_utime,
        cpu_system_seconds=usage.ru_stime,
        rss_bytes=rss,
        # Linux reports ru_maxrss in KiB.
        max_rss_bytes=usage.ru_maxrss * 1024,
    )


SessionEnd = Literal["full", "origin", "auth", "rate", "idle", "not_reading", "superseded"]
ResumeOutcome = Literal["resumed", "malformed", "unknown", "unavailable"]
"""Why the server refused or closed a session (the ``reason`` label)."""


class ServiceMetrics:
    """Metrics of one app: its own registry, turn/stage histograms, loop lag, live state.

    ``speech``'s ``stats()`` and ``outbox``'s backlog and counts are read at scrape time
    (without ``speech`` its series are present but empty). ``window`` is how many recent samples
    per stage and per step feed the percentiles of ``stats()``.
    """

    def __init__(
        self,
        *,
        speech: SpeechService | None = None,
        outbox: Outbox | None = None,
        window: int = 1024,
        loop_interval: float = 0.05,
        loop_window: int = 2400,
    ) -> None:
        self.speech = speech
        self.outbox = outbox
        self.window = window
        self.started = time.monotonic()
        self.registry = CollectorRegistry()
        self.turn_seconds = Histogram(
            "ustad_turn_seconds",
            "Time to answer an utterance, by reply step.",
            ["step"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "ustad_stage_seconds",
            "Time spent per turn stage (decode, vad, stt, translate, assess, store, tts).",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.part_seconds = Histogram(
            "ustad_turn_part_seconds",
            "A turn's time split: engine (engine calls running), queue (waiting for an "
            "engine thread), overhead (the rest: ustad's own code and the event loop).",
            ["part"],
            buckets=OVERHEAD_BUCKETS,
            registry=self.registry,
        )
        self.turns_total = PromCounter(
            "ustad_turns_total",
            "Utterances answered, by reply step.",
            ["step"],
            registry=self.registry,
        )
        self.sessions_gauge = PromGauge(
            "ustad_sessions_active", "Open learner sessions.", registry=self.registry
        )
        self.sessions_ended_total = PromCounter(
            "ustad_sessions_ended_total",
            "Sessions the server refused or closed, by reason (full, origin, auth, rate, "
            "idle, not_reading, superseded).",
            ["reason"],
            registry=self.registry,
        )
        self.resumes_total = PromCounter(
            "ustad_session_resumes_total",
            "Connections that asked to resume a session, by outcome (resumed, malformed, "
            "unknown, unavailable).",
            ["outcome"],
            registry=self.registry,
        )
        self.loop_lag_seconds = Histogram(
            "ustad_event_loop_lag_seconds",
            "How late the event loop woke a sleeping task.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.shared_limits: Callable[[], SharedLimitStats] | None = None
        """The shared rate limits' and session cap's counters (set with the shared tier)."""
        self.registry.register(
            LiveStateCollector(self.speech, self.outbox, self._shared_limit_stats)
        )
        self.registry.register(RemoteCollector(self._remote_stats))
        # process_cpu_seconds_total, process_resident_memory_bytes, ... for this registry.
        ProcessCollector(registry=self.registry)
        self.loop_monitor = EventLoopLagMonitor(
            loop_interval, window=loop_window, histogram=self.loop_lag_seconds
        )
        self.turns: Counter[str] = Counter()
        """Turns answered, by reply step."""
        self._stage_windows: dict[str, SampleWindow] = {}
        self._part_windows: dict[str, SampleWindow] = {}
        self._turn_windows: dict[str, SampleWindow] = {}
        self._sessions_active = 0
        self.sessions_ended: Counter[str] = Counter()
        """Sessions refused or closed by the server, by reason."""
        self.resumes: Counter[str] = Counter()
        """Requests to resume a session, by outcome."""

    @property
    def sessions_active(self) -> int:
        """Open learner sessions (``+= 1`` on open, ``-= 1`` on close)."""
        return self._sessions_active

    @sessions_active.setter
    def sessions_active(self, value: int) -> None:
        self._sessions_active = value
        self.sessions_gauge.set(value)

    def session_ended(self, reason: SessionEnd) -> None:
        """Count a session the server refused or closed (``reason``: a short word)."""
        self.sessions_ended[reason] += 1
        self.sessions_ended_total.labels(reason=reason).inc()

    def session_resumed(self, outcome: ResumeOutcome) -> None:
        """Count a connection that asked to resume a session, by what came of it."""
        self.resumes[outcome] += 1
        self.resumes_total.labels(outcome=outcome).inc()

    def observe_turn(self, step: str, timings: Mapping[str, float]) -> None:
        """Count one answered utterance; ``timings`` are milliseconds with a ``total``."""
        self.turns[step] += 1
        self.turns_total.labels(step=step).inc()
        for name, ms in timings.items():
            seconds = ms / 1000.0
            if name == TOTAL:
                self.turn_seconds.labels(step=step).observe(seconds)
                self._window(self._turn_windows, step).add(ms)
            elif name in TURN_PARTS:
                self.part_seconds.labels(part=name).observe(seconds)
                self._window(self._part_windows, name).add(ms)
            else:
                self.observe_stage(name, ms)

    def observe_stage(self, stage: str, ms: float) -> None:
        """Record one stage's time (milliseconds), in a turn or after its reply."""
        self.stage_seconds.labels(stage=stage).observe(ms / 1000.0)
        self._window(self._stage_windows, stage).add(ms)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The registry in the format ``accept`` asks for, and its content type."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    def stats(self) -> dict[str, Any]:
        """The same facts as ``/metrics``, shaped for people (latencies in ms)."""
        lag = self.loop_monitor.snapshot()
        usage = process_usage()
        out: dict[str, Any] = {
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "sessions_active": self.sessions_active,
            "sessions_ended": dict(sorted(self.sessions_ended.items())),
            "session_resumes": dict(sorted(self.resumes.items())),
            "turns": {
                "total": sum(self.turns.values()),
                "by_step": dict(sorted(self.turns.items())),
                "latency_ms": _latencies(self._turn_windows),
            },
            "stages_ms": _latencies(self._stage_windows),
            "turn_parts_ms": _latencies(self._part_windows),
            "event_loop_lag_ms": {
                "interval": round(lag.interval * 1000.0, 1),
                "samples": lag.samples,
                "p50": round(lag.p50 * 1000.0, 2),
                "p99": round(lag.p99 * 1000.0, 2),
                "max": round(lag.max * 1000.0, 2),
            },
            "process": {
                "cpu_user_seconds": round(usage.cpu_user_seconds, 3),
                "cpu_system_seconds": round(usage.cpu_system_seconds, 3),
                "cpu_seconds": round(usage.cpu_seconds, 3),
                "rss_bytes": usage.rss_bytes,
                "max_rss_bytes": usage.max_rss_bytes,
            },
        }
        if self.speech is not None:
            out.update(to_json(self.speech.stats()))
        if self.outbox is not None:
            out["outbox"] = record_json(self.outbox.stats())
        out["remote"] = remote_json(self._remote_stats())
        limits = self._shared_limit_stats()
        if limits is not None:
            out["shared_limits"] = record_json(limits)
        return out

    def _shared_limit_stats(self) -> SharedLimitStats | None:
        return self.shared_limits() if self.shared_limits is not None else None

    def _remote_stats(self) -> tuple[ProviderStats, ...]:
        """The configured remote providers' counters (none without a speech service)."""
        return self.speech.remote.stats() if self.speech is not None else ()

    def _window(self, windows: dict[str, SampleWindow], key: str) -> SampleWindow:
        found = windows.get(key)
        if found is None:
            found = windows[key] = SampleWindow(self.window)
        return found


def _latencies(windows: Mapping[str, SampleWindow]) -> dict[str, dict[str, float]]:
    """Count, recent p50/p95/p99 and all-time max per key, in milliseconds."""
    return {
        key: {
            "count": window.count,
            "p50": round(window.percentile(50), 1),
            "p95": round(window.percentile(95), 1),
            "p99": round(window.percentile(99), 1),
            "max": round(window.max, 1),
        }
        for key, window in sorted(windows.items())
    }
