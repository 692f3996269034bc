"""Turning learner samples and server counters into results: JSON, tables, plots.

Latency is what a learner waits: from sending a message to the last frame of its
reply (the audio frame on speaking steps, the JSON frame otherwise); the time to the
JSON frame is reported beside it. Percentiles interpolate linearly between order
statistics (numpy's default), so p99 of a few dozen samples is close to the maximum,
not a measured tail: the sample ``count`` is always reported with it. A turn
answered ``busy`` (refused at admission, no work done; the learner says it again)
is counted but is in no latency figure.

A turn that got no reply (timeout, connection dropped) is not left out: the headline
``latency_ms`` of each turn kind counts it as at least what its learner waited
(until the timeout fired or the connection dropped), and flags the figures that are
therefore lower bounds (:func:`ustad.bench.failures.censored_summary`);
``served_latency_ms`` keeps the served turns alone. The ``failures`` block counts
learners dropped, turns sent, served, answered ``busy`` and not served, timeouts
and cycles not completed (:func:`ustad.bench.failures.failure_figures`).

Server-side figures are differences of the server's own counters taken before and
after the run (``GET /health``, and ``GET /v1/stats`` where the server has it), so
work done at start-up (pre-generated replies) is not counted in the run.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from ustad.bench.failures import censored_summary, failure_figures
from ustad.bench.records import (
    UTTERANCES,
    LearnerResult,
    MessageSample,
    UnservedMessage,
    refused_busy,
)
from ustad.bench.server_state import (
    ServerState,
    cache_delta,
    engine_calls_delta,
    event_loop_lag,
    executor_delta,
    fetch_server_state,
    requests_delta,
)
from ustad.bench.tables import format_table, runs_of
from ustad.bench.workload import Clip, Workload
from ustad.runtime.timing import ENGINE, OVERHEAD, QUEUE, SHARED

__all__ = [
    "SCHEMA_VERSION",
    "ServerState",
    "engine_calls_delta",
    "executor_delta",
    "fetch_server_state",
    "format_table",
    "latency_summary",
    "machine",
    "percentile",
    "run_report",
    "write_plots",
    "write_results",
]

SCHEMA_VERSION: Final = 3
"""Version of the results JSON layout (2: ``per_turn.*.latency_ms`` counts unserved
turns as lower bounds, ``served_latency_ms``, ``failures`` and ``unserved`` added; 3:
turns answered ``busy`` are said again by the learner and left out of every latency
figure, ``per_step`` and ``turns_per_second``, and counted in ``refused_busy``,
``turns_refused_busy`` and ``busy_repeats``; ``urdu_clips.*.said`` counts turns served)."""
PERCENTILES: Final = (50, 95, 99)
TURN_NAMES: Final = {"urdu_utterance": "urdu", "english_utterance": "english"}
"""Utterance kinds as turn names in the results."""
RESULTS_FILE: Final = "results.json"
DISTRIBUTION_PLOT: Final = "latency_distribution.png"
SCALING_PLOT: Final = "p95_vs_learners.png"


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, mean, p50/p95/p99 and max in milliseconds (``None`` when empty)."""
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    out: dict[str, float | int | None] = {
        "count": len(values),
        "mean": round(sum(values) / len(values), 1),
    }
    for p in PERCENTILES:
        out[f"p{p}"] = round(percentile(values, p), 1)
    out["max"] = round(max(values), 1)
    return out


# ------------------------------------------------------------------ server state


# ------------------------------------------------------------------ one run


def _summaries(samples: Iterable[MessageSample]) -> dict[str, Any]:
    rows = list(samples)
    out: dict[str, Any] = {
        "count": len(rows),
        "latency_ms": latency_summary([s.total_ms for s in rows]),
        "json_ms": latency_summary([s.json_ms for s in rows]),
    }
    audio = [s.audio_ms for s in rows if s.audio_ms is not None]
    if audio:
        out["audio_ms"] = latency_summary(audio)
    server = [s.server_ms for s in rows if s.server_ms is not None]
    if server:
        out["server_ms"] = latency_summary(server)
    timed = [s for s in rows if ENGINE in s.stages]
    if timed:
        # The server splits its time into engine compute, queueing for an engine
        # thread, awaiting another turn's computation and its own overhead; "outside
        # engine" is what the learner waited beyond engine compute (queueing, ustad,
        # the network and framing).
        for part in (ENGINE, QUEUE, SHARED, OVERHEAD):
            out[f"{part}_ms"] = latency_summary([s.stages.get(part, 0.0) for s in timed])
        out["outside_engine_ms"] = latency_summary([s.total_ms - s.stages[ENGINE] for s in timed])
    return out


def _per_turn(
    turns: Sequence[MessageSample], unserved: Sequence[UnservedMessage]
) -> dict[str, Any]:
    """Per turn kind: served-only figures, and ``latency_ms`` with unserved turns in.

    A turn answered ``busy`` was refused before any work: it is counted
    (``refused_busy``, and in ``count``) but its few milliseconds are in no latency.
    """
    out: dict[str, Any] = {}
    for kind in sorted(UTTERANCES):
        sent = [s for s in turns if s.sent == kind]
        rows = [s for s in sent if not s.refused_busy]
        lost = [u for u in unserved if u.sent == kind]
        if not sent and not lost:
            continue
        summary = _summaries(rows)
        summary["served_latency_ms"] = summary["latency_ms"]
        summary["latency_ms"] = censored_summary(
            [s.total_ms for s in rows], [u.waited_ms for u in lost]
        )
        summary["count"] = len(sent) + len(lost)
        summary["refused_busy"] = len(sent) - len(rows)
        summary["not_served"] = len(lost)
        out[TURN_NAMES[kind]] = summary
    return out


def _grouped(samples: Iterable[MessageSample], key: str) -> dict[str, list[MessageSample]]:
    groups: dict[str, list[MessageSample]] = defaultdict(list)
    for sample in samples:
        groups[str(getattr(sample, key))].append(sample)
    return dict(sorted(groups.items()))


def _urdu_by_clip(samples: Sequence[MessageSample], pool: Sequence[Clip]) -> dict[str, Any]:
    """Per Urdu clip: how often said, how often understood (real vs synthetic).

    ``said`` counts the turns served; ``refused_busy`` those answered ``busy``."""
    sources = {clip.name: clip for clip in pool}
    out: dict[str, Any] = {}
    for name, sent in _grouped((s for s in samples if s.sent == "urdu_utterance"), "clip").items():
        clip = sources.get(name)
        rows = [s for s in sent if not s.refused_busy]
        out[name] = {
            "synthetic": clip.synthetic if clip else None,
            "said": len(rows),
            "refused_busy": len(sent) - len(rows),
            "understood": sum(s.step == "you_said_audio" for s in rows),
            "latency_ms_p50": latency_summary([s.total_ms for s in rows])["p50"],
        }
    return out


def run_report(
    learners: Sequence[LearnerResult],
    wall_seconds: float,
    *,
    workload: Workload,
    urdu_pool: Sequence[Clip],
    before: ServerState,
    after: ServerState,
    server_process: Mapping[str, Any] | None,
    client_cpu_seconds: float | None = None,
) -> dict[str, Any]:
    """Everything measured in one run (one configuration, one learner count).

    ``wall_seconds`` is the run's wall time; the result is JSON-ready (see the module
    docstring for how unserved turns enter the latency figures).
    """
    samples = [s for learner in learners for s in learner.samples]
    unserved = [u for learner in learners for u in learner.unserved]
    cycles = [c for learner in learners for c in learner.cycles]
    outcomes = Counter(c.outcome for c in cycles)
    completed = outcomes["passed"] + outcomes["skipped"]
    turns = [s for s in samples if s.sent in UTTERANCES]
    wall = max(wall_seconds, 1e-9)
    return {
        "learners": workload.learners,
        "workload": workload.to_dict(),
        "wall_seconds": round(wall_seconds, 3),
        "throughput": {
            "cycles_per_minute": round(60.0 * completed / wall, 2),
            # Turns served: a refusal (``busy``) is no turn done, however fast.
            "turns_per_second": round(sum(not s.refused_busy for s in turns) / wall, 3),
            "messages_per_second": round(len(samples) / wall, 3),
        },
        "cycles": {
            "planned": workload.learners * workload.cycles,
            "completed": completed,
            "outcomes": dict(sorted(outcomes.items())),
            "busy_repeats": sum(c.busy_repeats for c in cycles),
            "seconds": latency_summary([c.seconds * 1000.0 for c in cycles if c.seconds]),
        },
        "failures": failure_figures(
            learners, cycles_planned=workload.learners * workload.cycles, cycles_completed=completed
        ),
        "per_turn": _per_turn(turns, unserved),
        "per_ack": {
            kind: _summaries(rows)
            for kind, rows in _grouped(samples, "sent").items()
            if kind not in UTTERANCES
        },
        "per_step": {
            step: _summaries(rows)
            for step, rows in _grouped((s for s in samples if not s.refused_busy), "step").items()
        },
        "urdu_clips": _urdu_by_clip(samples, urdu_pool),
        "error_replies": dict(Counter(s.code for s in samples if s.code)),
        "engine_calls": engine_calls_delta(before, after),
        "executor": executor_delta(before, after, wall),
        "requests": requests_delta(before, after),
        "caches": cache_delta(before, after),
        "event_loop_lag_ms": event_loop_lag(after),
        "server_process": dict(server_process)
        if server_process
        else {"available": False, "reason": "the server is not a local process the bench knows"},
        "client_cpu_seconds": None if client_cpu_seconds is None else round(client_cpu_seconds, 2),
        "errors": [f"learner {r.index}: {e}" for r in learners for e in r.errors],
        "learner_results": [r.summary() for r in learners],
        "samples": [_sample_row(s) for s in samples],
        "unserved": [{**asdict(u), "waited_ms": round(u.waited_ms, 2)} for u in unserved],
    }


def _sample_row(sample: MessageSample) -> dict[str, Any]:
    row = asdict(sample)
    for key in ("json_ms", "audio_ms", "server_ms"):
        if row[key] is not None:
            row[key] = round(row[key], 2)
    return row


# ------------------------------------------------------------------ whole bench


def machine() -> dict[str, Any]:
    """The machine the bench ran on (CPU model, cores, memory, OS, Python)."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def write_results(results: Mapping[str, Any], directory: Path) -> Path:
    """Write ``results.json`` into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RESULTS_FILE
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def write_plots(results: Mapping[str, Any], directory: Path) -> list[Path]:
    """The latency distribution and p95-against-learners PNGs."""
    import matplotlib

    # No display on a server; Agg renders straight to PNG.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    runs = runs_of(results)
    turns = ("urdu", "english")

    figure, axes = plt.subplots(1, len(turns), figsize=(11, 4.2), squeeze=False)
    for axis, turn in zip(axes[0], turns, strict=True):
        kind = next(k for k, v in TURN_NAMES.items() if v == turn)
        for name, level, run in runs:
            values = sorted(
                s["audio_ms"] if s["audio_ms"] is not None else s["json_ms"]
                for s in run["samples"]
                if s["sent"] == kind and not refused_busy(s)
            )
            if not values:
                continue
            # An empirical CDF that starts at 0 so a single sample still draws a step.
            fractions = [0.0] + [(i + 1) / len(values) for i in range(len(values))]
            axis.step(
                [values[0] / 1000.0] + [v / 1000.0 for v in values],
                fractions,
                where="post",
                label=f"{name}, {level} learners (n={len(values)})",
            )
        axis.set_title(f"{turn} turn: send to last reply frame")
        axis.set_xlabel("latency (s)")
        axis.set_ylabel("fraction of turns")
        axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    distribution = directory / DISTRIBUTION_PLOT
    figure.savefig(distribution, dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6.5, 4.2))
    for name in results["configs"]:
        levels = [(level, run) for n, level, run in runs if n == name]
        for turn in turns:
            summaries = [
                (level, run["per_turn"][turn]["latency_ms"])
                for level, run in levels
                if turn in run["per_turn"] and run["per_turn"][turn]["latency_ms"]["p95"]
            ]
            if not summaries:
                continue
            xs = [level for level, _ in summaries]
            ys = [summary["p95"] / 1000.0 for _, summary in summaries]
            (line,) = axis.plot(xs, ys, marker="o", label=f"{name}: {turn} turn")
            # A p95 that unserved turns make a lower bound: an open triangle on it.
            bounds = [
                (x, y)
                for x, y, (_, summary) in zip(xs, ys, summaries, strict=True)
                if "p95" in summary.get("lower_bound", ())
            ]
            if bounds:
                axis.plot(
                    [x for x, _ in bounds],
                    [y for _, y in bounds],
                    "^",
                    color=line.get_color(),
                    markersize=11,
                    fillstyle="none",
                    label=f"{name}: {turn} p95 ≥ (turns not served)",
                )
    axis.set_xticks(sorted({level for _, level, _ in runs}))
    axis.set_ylim(bottom=0)
    axis.set_xlabel("simulated learners")
    axis.set_ylabel("p95 latency (s)")
    axis.set_title("p95 turn latency against concurrent learners")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    scaling = directory / SCALING_PLOT
    figure.savefig(scaling, dpi=110)
    plt.close(figure)
    return [distribution, scaling]
