"""``ustad bench --compare``: the naive baseline and ustad on one workload, side by side.

The seed design promised figures nobody had measured; this prints each claim next
to what the same workload measured here, as ratios of the baseline server
(``USTAD_RUNTIME__MODE=baseline``) to the optimised one.

A configuration that collapses is reported as such: per learner level the table
has rows for turns served, learners dropped, replies timed out and cycles not
completed; latency percentiles count a turn not served as at least what its learner
waited and are shown ``≥ value`` when that makes them lower bounds; a figure that
cannot be computed says why in words ("none served", "not reported").
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from ustad.bench.failures import censored_percentile
from ustad.bench.records import refused_busy
from ustad.bench.server import ServerConfig
from ustad.runtime.timing import ENGINE, OVERHEAD

BASELINE = "baseline"
OPTIMISED = "optimised"
SERVED_P95_SECONDS = 1.5
"""A learner level counts as served when the p95 over all its turns is at most this."""
_SENT = {"urdu": "urdu_utterance", "english": "english_utterance"}
_LATENCY_FACTS = {
    "urdu_p50_ms": ("urdu", 50),
    "english_p50_ms": ("english", 50),
    "urdu_p95_ms": ("urdu", 95),
    "english_p95_ms": ("english", 95),
    "turn_p50_ms": (None, 50),
    "turn_p95_ms": (None, 95),
}
"""Facts that are latency percentiles, so count unserved turns as lower bounds."""


def compare_configs(env: Mapping[str, str]) -> tuple[ServerConfig, ServerConfig]:
    """The two servers of a comparison (``env`` applies to both). The baseline's
    Whisper runs on the library's own thread default (``stt.cpu_threads`` 0: 4 threads
    per call, or ``OMP_NUM_THREADS``, and numpy's BLAS a thread per core), as a service
    that does not size its engines would, unless ``env`` says otherwise."""
    return (
        ServerConfig(
            BASELINE, {"USTAD_STT__CPU_THREADS": "0", **env, "USTAD_RUNTIME__MODE": "baseline"}
        ),
        ServerConfig(OPTIMISED, dict(env)),
    )


def _turn_samples(run: Mapping[str, Any], kind: str | None = None) -> list[Mapping[str, Any]]:
    """Turns answered with work done: not those refused ``busy`` (no latency to speak of)."""
    return [
        s
        for s in run["samples"]
        if str(s["sent"]).endswith("_utterance")
        and (kind is None or s["sent"] == _SENT[kind])
        and not refused_busy(s)
    ]


def _waits(run: Mapping[str, Any], kind: str | None = None) -> list[float]:
    """What learners waited for turns never served (``unserved``, results schema ≥ 2)."""
    return [
        float(u["waited_ms"])
        for u in run.get("unserved", [])
        if str(u["sent"]).endswith("_utterance") and (kind is None or u["sent"] == _SENT[kind])
    ]


def level_bounds(run: Mapping[str, Any]) -> frozenset[str]:
    """The :func:`level_facts` keys that are lower bounds (unserved turns among them)."""
    return frozenset(
        key
        for key, (kind, q) in _LATENCY_FACTS.items()
        if censored_percentile(_latencies(run, kind), _waits(run, kind), q)[1]
    )


def _p(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _latencies(run: Mapping[str, Any], kind: str | None = None) -> list[float]:
    return [
        float(s["audio_ms"] if s["audio_ms"] is not None else s["json_ms"])
        for s in _turn_samples(run, kind)
    ]


def _stage_median(run: Mapping[str, Any], stage: str, kind: str | None = None) -> float | None:
    values = [float(s["stages"][stage]) for s in _turn_samples(run, kind) if stage in s["stages"]]
    return statistics.median(values) if values else None


def _calls(run: Mapping[str, Any], *prefixes: str) -> int:
    return sum(n for kind, n in run["engine_calls"].items() if kind.startswith(prefixes))


def _share(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def _outside_engine(run: Mapping[str, Any]) -> list[float]:
    """Per turn: what the learner waited beyond engine compute (servers with ``engine``)."""
    return [
        latency - float(s["stages"][ENGINE])
        for s, latency in zip(_turn_samples(run), _latencies(run), strict=True)
        if ENGINE in s["stages"]
    ]


def level_facts(run: Mapping[str, Any]) -> dict[str, float | None]:
    """The figures of one run that the seed's claims and the targets are about.

    Latency percentiles (ms) count unserved turns as what their learners waited
    (:func:`level_bounds` says which are lower bounds); stage figures are over
    served turns only. ``None``: no turn to compute it from, or not reported.
    """
    requests = run.get("requests", {})
    turns = _turn_samples(run)
    overheads = [float(s["stages"][OVERHEAD]) for s in turns if OVERHEAD in s["stages"]]
    latency = {
        key: censored_percentile(_latencies(run, kind), _waits(run, kind), q)[0]
        for key, (kind, q) in _LATENCY_FACTS.items()
    }
    return {
        "outside_engine_p50_ms": _p(_outside_engine(run), 50),
        "server_overhead_p50_ms": _p(overheads, 50),
        "server_overhead_p95_ms": _p(overheads, 95),
        "cycles_per_minute": run.get("throughput", {}).get("cycles_per_minute"),
        "tts_engine_share": _share(_calls(run, "tts_"), requests.get("tts_segments", 0)),
        # Every request that misses the cache asks the phrase-bank memory first, so its
        # count is the number of requests that reached a provider at all.
        "translation_engine_share": _share(
            _calls(run, "translate_memory"), requests.get("translation", 0)
        ),
        **latency,
        "stt_translate_ms": _median_sum(run, ("stt", "translate"), "urdu"),
        "tts_ms": _stage_median(run, "tts"),
        "tts_engine_calls": float(_calls(run, "tts_")),
        "translation_provider_calls": float(_calls(run, "translate_whisper")),
        # Turns served or lost; those answered ``busy`` are in ``failures`` instead.
        "turns": float(len(turns) + len(_waits(run))),
        "loop_lag_p99_ms": run["event_loop_lag_ms"].get("p99"),
    }


def _median_sum(run: Mapping[str, Any], stages: Sequence[str], kind: str) -> float | None:
    values = [
        sum(float(s["stages"].get(stage, 0.0)) for stage in stages)
        for s in _turn_samples(run, kind)
        if any(stage in s["stages"] for stage in stages)
    ]
    return statistics.median(values) if values else None


def _missing(run: Mapping[str, Any], key: str) -> str:
    """Why the figure ``key`` of ``run`` is missing, in words."""
    if key != "loop_lag_p99_ms" and not _turn_samples(run):
        return "none served"
    return "not reported"


def _change(base: float | None, opt: float | None, base_bound: bool, opt_bound: bool) -> str:
    """``optimised / baseline − 1``, as a bound where a side is one, or why there is none."""
    if base is None and opt is None:
        return "no figure on either side"
    if base is None or opt is None:
        return f"no figure for the {BASELINE if base is None else OPTIMISED}"
    if base <= 0:
        return "baseline's is 0"
    if base_bound and opt_bound:
        return "both are lower bounds"
    # A lower bound on the baseline makes the true ratio smaller; on ustad, larger.
    prefix = "≤ " if base_bound else "≥ " if opt_bound else ""
    return f"{prefix}{(opt / base - 1) * 100:+.0f} %"


def _cell(value: float | None, key: str, unit: str, bound: bool, run: Mapping[str, Any]) -> str:
    if value is None:
        return _missing(run, key)
    text = f"{value:.0f} %" if unit == "%" else f"{value:.1f}" if unit == "/min" else f"{value:.0f}"
    return f"≥ {text}" if bound else text


CLAIMS: tuple[tuple[str, str, str], ...] = (
    (
        "outside_engine_p50_ms",
        "turn time minus engine compute, p50 (target ≤ 15 ms where nothing queues)",
        "ms",
    ),
    ("server_overhead_p50_ms", "ustad's own time in a turn, p50 (no queueing, no engine)", "ms"),
    ("server_overhead_p95_ms", "ustad's own time in a turn, p95 (target ≤ 100 ms)", "ms"),
    ("tts_engine_share", "TTS engine calls per segment requested (target ≤ 20 % at 16)", "%"),
    (
        "translation_engine_share",
        "translation requests reaching a provider (target ≤ 20 % at 16)",
        "%",
    ),
    ("stt_translate_ms", "parallel STT + translation (Urdu turn) 40–60 % faster", "ms"),
    ("tts_ms", "TTS 30–50 % faster (caching, pre-generation)", "ms"),
    ("translation_provider_calls", "60–80 % fewer provider calls (translation)", "calls"),
    ("tts_engine_calls", "fewer TTS engine calls", "calls"),
    ("turn_p50_ms", "turn latency p50", "ms"),
    ("turn_p95_ms", "turn latency p95 (target at 16 learners: optimised ≤ ⅓)", "ms"),
    ("urdu_p95_ms", "Urdu turn latency p95 (target at 8 learners ≤ 4 s)", "ms"),
    ("english_p95_ms", "English turn latency p95 (target at 8 learners ≤ 2 s)", "ms"),
    ("cycles_per_minute", "cycles completed per minute (target at 16 ≥ 46)", "/min"),
    ("loop_lag_p99_ms", "event-loop lag p99 (target ≤ 20 ms at 16)", "ms"),
)


def _failures(run: Mapping[str, Any]) -> Mapping[str, Any]:
    """The run's ``failures`` block (results schema ≥ 2; an empty one before)."""
    return run.get("failures") or {}


def _level_served(run: Mapping[str, Any]) -> bool:
    """No learner dropped, no turn refused ``busy``, some turn sent, and p95 over all
    turns ≤ the bound (a refused turn's wait, think time and repeat are in no latency,
    so a level with refusals does not count as served)."""
    failures = _failures(run)
    if failures.get("learners_dropped") or failures.get("turns_refused_busy"):
        return False
    p95, _ = censored_percentile(_latencies(run), _waits(run), 95)
    return p95 is not None and p95 <= SERVED_P95_SECONDS * 1000


def served_learners(config: Mapping[str, Any]) -> int:
    """The largest learner level served: every learner kept its connection to its last
    cycle, no turn was answered ``busy``, and the p95 over all its turns (an unserved
    turn counting as at least what its learner waited) stayed within
    ``SERVED_P95_SECONDS``; 0 if no level was."""
    served = 0
    for level, run in config["runs"].items():
        if _level_served(run):
            served = max(served, int(level))
    return served


def _of(done: int | None, total: int | None) -> str:
    return "not reported" if done is None or total is None else f"{done} of {total}"


def _served(failures: Mapping[str, Any]) -> str:
    text = _of(failures.get("turns_served"), failures.get("turns_sent"))
    refused = failures.get("turns_refused_busy")
    return f"{text} ({refused} answered busy)" if refused else text


def _dropped(failures: Mapping[str, Any]) -> str:
    text = _of(failures.get("learners_dropped"), failures.get("learners"))
    reasons = ", ".join(f"{n} {r}" for r, n in failures.get("reasons", {}).items())
    return f"{text} ({reasons})" if reasons else text


def _timeouts(run: Mapping[str, Any]) -> str:
    failures = _failures(run)
    if not failures:
        return "not reported"
    sent = len(run["samples"]) + int(failures.get("messages_not_served", 0))
    return f"{failures['timeouts']} of {sent} messages"


def _failure_rows(level: str, base: Mapping[str, Any], opt: Mapping[str, Any]) -> list[str]:
    """Rows saying what each configuration failed to serve at one learner level."""
    b, o = _failures(base), _failures(opt)
    rows = (
        ("turns served", "every turn answered", _served(b), _served(o)),
        ("learners dropped", "none", _dropped(b), _dropped(o)),
        ("replies timed out", "none", _timeouts(base), _timeouts(opt)),
        ("cycles not completed", "none", _of(b.get("cycles_not_completed"),
         b.get("cycles_planned")), _of(o.get("cycles_not_completed"), o.get("cycles_planned"))),
    )  # fmt: skip
    return [f"| {level} | {figure} | {claim} | {x} | {y} | |" for figure, claim, x, y in rows]


def _served_ratio(base_served: int, opt_served: int) -> str:
    if base_served:
        return f"{opt_served / base_served:.1f}×"
    if opt_served:
        return f"baseline served none; optimised served {opt_served}"
    return f"neither served any level at p95 ≤ {SERVED_P95_SECONDS} s"


def compare_table(results: Mapping[str, Any]) -> str:
    """Markdown: per learner level, each claim with baseline, optimised and the change.

    Per level also the failure rows (turns served, learners dropped, replies timed
    out, cycles not completed); ``≥`` marks a lower bound, and a missing figure says
    why in words. The last rows give ``served_learners`` of both configurations.
    """
    configs = results["configs"]
    if BASELINE not in configs or OPTIMISED not in configs:
        return "(no comparison: run with --compare)"
    lines = [
        "| learners | figure | seed's claim | baseline | optimised | change |",
        "|---|---|---|---|---|---|",
    ]
    for level, opt_run in configs[OPTIMISED]["runs"].items():
        base_run = configs[BASELINE]["runs"].get(level)
        if base_run is None:
            continue
        lines.extend(_failure_rows(level, base_run, opt_run))
        base, opt = level_facts(base_run), level_facts(opt_run)
        base_bounds, opt_bounds = level_bounds(base_run), level_bounds(opt_run)
        for key, claim, unit in CLAIMS:
            b_bound, o_bound = key in base_bounds, key in opt_bounds
            lines.append(
                f"| {level} | {key} | {claim} | {_cell(base[key], key, unit, b_bound, base_run)} "
                f"| {_cell(opt[key], key, unit, o_bound, opt_run)} "
                f"| {_change(base[key], opt[key], b_bound, o_bound)} |"
            )
    base_served = served_learners(configs[BASELINE])
    opt_served = served_learners(configs[OPTIMISED])
    lines.append(
        f"| all | learners served at p95 ≤ {SERVED_P95_SECONDS} s | 3–5× more concurrent users "
        f"| {base_served} | {opt_served} | {_served_ratio(base_served, opt_served)} |"
    )
    lines.append(
        "| all | connection overhead | 70–90 % less (pooling) | does not apply | does not apply "
        "| no remote provider is configured: every engine is local |"
    )
    return "\n".join(lines)
