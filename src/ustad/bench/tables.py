"""The plain-text summary table of a bench: latency, throughput and what failed.

A configuration that served nobody must say so: the table's ``served``, ``dropped``
and ``t/o`` columns count turns answered with work done (not ``busy``), learners that
stopped early and replies that timed out, latency figures that are only lower bounds
(a turn not served counts as what its learner waited) are shown ``≥ x.xx``, and notes
under the table say in words what each run failed to serve and why a figure is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ustad.bench.failures import failure_words, seconds_cell


def runs_of(results: Mapping[str, Any]) -> list[tuple[str, int, Mapping[str, Any]]]:
    """``(configuration, learner count, run)`` for every run, counts ascending."""
    return [
        (name, int(level), run)
        for name, config in results["configs"].items()
        for level, run in sorted(config["runs"].items(), key=lambda item: int(item[0]))
    ]


def _run_cells(run: Mapping[str, Any]) -> dict[str, str]:
    """The per-run columns of :func:`format_table`."""
    process = run["server_process"]
    lag_info = run["event_loop_lag_ms"]
    # CPU used by other processes on the machine during the run: the noise figure.
    other_cpu = run.get("machine_load", {}).get("other_cpu_percent")
    failures = run.get("failures")
    return {
        "cyc": f"{run['throughput']['cycles_per_minute']:.1f}",
        "dropped": "–" if failures is None else f"{failures['learners_dropped']}/{run['learners']}",
        "timeouts": "–" if failures is None else str(failures["timeouts"]),
        "cpu": f"{process['cpu_percent_mean']:.0f}" if process.get("available") else "–",
        "peak": f"{process['peak_rss_bytes'] / 2**20:.0f}" if process.get("available") else "–",
        "lag": f"{lag_info.get('p99', 0):.1f}" if lag_info.get("available") else "n/a",
        "other": "–" if other_cpu is None else f"{other_cpu:.0f}",
    }


def format_table(results: Mapping[str, Any]) -> str:
    """A plain-text summary: one row per configuration, learner count and turn kind.

    ``n`` is turns sent, ``served`` those answered with work done (not ``busy``, not
    lost); p50/p95/p99 (s) count an unserved turn as at least what its learner waited,
    shown ``≥ x.xx`` where that makes the figure a lower bound; ``dropped`` is learners
    that stopped early of learners run, ``t/o`` replies that timed out. Notes under the
    table say in words what a run failed to serve and why a figure is missing.
    """
    header = (
        f"{'config':<10} {'learners':>8} {'turn':<8} {'n':>4} {'served':>7} {'p50 s':>8} "
        f"{'p95 s':>8} {'p99 s':>8} {'cyc/min':>8} {'dropped':>7} {'t/o':>4} {'cpu %':>6} "
        f"{'peak MiB':>9} {'lag p99':>8} {'other %':>7}"
    )
    lines = [header, "-" * len(header)]
    notes: list[str] = []
    bounded = False
    for name, level, run in runs_of(results):
        cells = _run_cells(run)
        tail = (
            f"{cells['cyc']:>8} {cells['dropped']:>7} {cells['timeouts']:>4} {cells['cpu']:>6} "
            f"{cells['peak']:>9} {cells['lag']:>8} {cells['other']:>7}"
        )
        rows = dict(run["per_turn"]) or {"none": {"count": 0, "latency_ms": {"count": 0}}}
        for turn, summary in rows.items():
            latency = summary["latency_ms"]
            # Turns sent: served, answered busy (in no latency figure) and not served.
            sent = summary.get("count", latency["count"])
            served = latency.get("served", latency["count"])
            bounded = bounded or bool(latency.get("lower_bound"))
            served_cell = f"{served}/{sent}"
            lines.append(
                f"{name:<10} {level:>8} {turn:<8} {sent:>4} {served_cell:>7} "
                f"{seconds_cell(latency, 'p50'):>8} {seconds_cell(latency, 'p95'):>8} "
                f"{seconds_cell(latency, 'p99'):>8} {tail}"
            )
        words = failure_words(run.get("failures"))
        if words:
            notes.append(f"{name}, {level} learners: {words}")
        if not run["per_turn"]:
            notes.append(f"{name}, {level} learners: no turn was sent, so no latency (–)")
        if not run["event_loop_lag_ms"].get("available"):
            reason = run["event_loop_lag_ms"].get("reason", "not reported")
            note = f"lag p99 n/a for {name}: {reason}"
            if note not in notes:
                notes.append(note)
    if bounded:
        notes.append(
            "≥: a lower bound; a turn not served counts as the time its learner waited "
            "(until the reply timeout or the connection dropped)"
        )
    return "\n".join(lines + (["", *notes] if notes else []))
