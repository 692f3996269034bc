"""What a run failed to serve, as figures and in words; latency with failures counted.

A turn that got no reply has no latency, but it has a lower bound: the learner
waited at least until the timeout fired or the connection dropped. Leaving such
turns out would make a configuration that collapses look fast, so every headline
percentile here is computed over served latencies *and* those waits ("censored"
observations, in the survival-analysis sense: the true value is only known to be
at least the recorded one). A percentile (or mean, or max) whose value could rise
if a censored wait were replaced by the real, longer latency is flagged in
``lower_bound`` and shown as ``≥ value``.

Which order statistics a percentile depends on follows :func:`report.percentile`'s
linear interpolation (numpy's default): the ``p``-th percentile of ``n`` values uses
the values at ranks ``floor(h)`` and ``floor(h) + 1`` (0-based, ``h = (n - 1) p / 100``).
Raising a censored value can only change that percentile if the censored value is
at or below the higher of those two: that is the test used.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ustad.bench.records import UTTERANCES, LearnerResult, MessageSample, UnservedMessage

PERCENTILES: Final = (50, 95, 99)


def _interpolated(ordered: Sequence[float], p: float) -> tuple[float, int]:
    """The ``p``-th percentile of sorted values and the index of the higher rank used."""
    position = (len(ordered) - 1) * p / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low), high


def censored_summary(served: Sequence[float], waited: Sequence[float]) -> dict[str, Any]:
    """Latency summary in ms over served values and censored waits (lower bounds).

    Returns ``count`` (all turns), ``served``, ``not_served``, ``mean``, ``p50``,
    ``p95``, ``p99``, ``max`` (ms, rounded to 0.1; ``None`` when there are no values)
    and ``lower_bound``: the names among those figures that are only lower bounds
    because of a censored wait (see the module docstring).
    """
    values = sorted([(float(v), False) for v in served] + [(float(w), True) for w in waited])
    out: dict[str, Any] = {
        "count": len(values),
        "served": len(served),
        "not_served": len(waited),
    }
    if not values:
        return {**out, "mean": None, "p50": None, "p95": None, "p99": None, "max": None,
                "lower_bound": []}  # fmt: skip
    ordered = [v for v, _ in values]
    lowest_censored = min((w for w in waited), default=math.inf)
    bounds: list[str] = ["mean"] if waited else []
    out["mean"] = round(sum(ordered) / len(ordered), 1)
    for p in PERCENTILES:
        value, high = _interpolated(ordered, p)
        out[f"p{p}"] = round(value, 1)
        if lowest_censored <= ordered[high]:
            bounds.append(f"p{p}")
    out["max"] = round(ordered[-1], 1)
    if waited:
        bounds.append("max")
    out["lower_bound"] = bounds
    return out


def censored_percentile(
    served: Sequence[float], waited: Sequence[float], p: float
) -> tuple[float | None, bool]:
    """The ``p``-th percentile (ms) over served values and waits, and whether it is a bound."""
    ordered = sorted([*served, *waited])
    if not ordered:
        return None, False
    value, high = _interpolated(ordered, p)
    return value, bool(waited) and min(waited) <= ordered[high]


def failure_figures(
    learners: Sequence[LearnerResult], *, cycles_planned: int, cycles_completed: int
) -> dict[str, Any]:
    """What a run did not serve: the ``failures`` block of a run's results.

    ``learners_dropped`` counts learners that stopped before their last cycle for
    any reason (``by_kind``: refused, dropped, timeout, protocol; ``reasons``: the
    same in words, e.g. ``keepalive timeout``). ``turns_*`` count utterances only:
    sent = served + refused ``busy`` (answered at once, no work done) + not served (no
    reply); ``timeouts`` counts messages of any kind with no reply within the timeout;
    ``cycles_not_completed`` is planned minus completed (whatever the outcome).
    """
    answered = [s for r in learners for s in r.samples if s.sent in UTTERANCES]
    served: list[MessageSample] = [s for s in answered if not s.refused_busy]
    unserved: list[UnservedMessage] = [u for r in learners for u in r.unserved]
    lost_turns = [u for u in unserved if u.sent in UTTERANCES]
    failures = [r.failure for r in learners if r.failure is not None]
    return {
        "learners": len(learners),
        "learners_dropped": len(failures),
        "by_kind": dict(sorted(Counter(f.kind for f in failures).items())),
        "reasons": dict(Counter(f.reason for f in failures).most_common()),
        "close_codes": dict(
            sorted(Counter(str(f.close_code) for f in failures if f.close_code).items())
        ),
        "turns_sent": len(answered) + len(lost_turns),
        "turns_served": len(served),
        "turns_refused_busy": len(answered) - len(served),
        "turns_not_served": len(lost_turns),
        "messages_not_served": len(unserved),
        "timeouts": sum(u.kind == "timeout" for u in unserved),
        "cycles_planned": cycles_planned,
        "cycles_not_completed": cycles_planned - cycles_completed,
    }


def _reasons(reasons: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in reasons.items())


def failure_words(failures: Mapping[str, Any] | None) -> str | None:
    """One line in words for a run that failed anyone; ``None`` when nothing failed.

    E.g. ``served 0 of 16 turns; 8 of 8 learners dropped (8 keepalive timeout);
    16 of 16 cycles not completed``.
    """
    refused = int(failures.get("turns_refused_busy", 0)) if failures else 0
    if not failures or not (
        failures["learners_dropped"] or failures["turns_not_served"] or refused
    ):
        return None
    sent = failures["turns_sent"]
    served = f"served {failures['turns_served']} of {sent} turns" if sent else "no turn was sent"
    parts = [
        served + (f" ({refused} answered busy)" if refused else ""),
        f"{failures['learners_dropped']} of {failures['learners']} learners dropped"
        + (f" ({_reasons(failures['reasons'])})" if failures["reasons"] else ""),
    ]
    if failures["timeouts"]:
        parts.append(f"{failures['timeouts']} replies timed out")
    parts.append(
        f"{failures['cycles_not_completed']} of {failures['cycles_planned']} cycles not completed"
    )
    return "; ".join(parts)


def seconds_cell(summary: Mapping[str, Any], key: str) -> str:
    """A latency figure of :func:`censored_summary` in seconds, ``≥ x.xx`` if a bound."""
    value = summary.get(key)
    if value is None:
        return "–"
    text = f"{value / 1000.0:.2f}"
    return f"≥ {text}" if key in summary.get("lower_bound", ()) else text
