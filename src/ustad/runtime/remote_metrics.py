"""The remote providers' counters as Prometheus families and as ``/v1/stats`` JSON.

Read at scrape time from ``RemoteProvider.stats()`` (one source of truth, as for the
speech layer's counters), labelled by ``provider`` (``stt``, ``tts``, ``translation``):

* ``ustad_remote_calls_total``, ``ustad_remote_attempts_total`` (retries included),
  ``ustad_remote_errors_total{kind}`` (``ErrorKind``), ``ustad_remote_fallbacks_total``;
* ``ustad_remote_call_seconds`` (histogram of calls that reached the network);
* ``ustad_remote_breaker_state`` (0 closed, 1 half-open, 2 open) and
  ``ustad_remote_breaker_opened_total``;
* ``ustad_remote_connections_opened_total`` against
  ``ustad_remote_connections_reused_total``: what the pooled client saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from ustad.speech.remote.provider import LATENCY_BUCKETS, ProviderStats

BREAKER_VALUES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
"""``ustad_remote_breaker_state``'s value for each state."""

_COUNTERS = (
    ("calls", "Calls asked of a remote provider."),
    ("attempts", "HTTP requests started to a remote provider (first tries and retries)."),
    ("fallbacks", "Calls a local engine answered instead of the remote provider."),
    ("breaker_opened", "Times a remote provider's circuit breaker opened."),
    ("connections_opened", "New connections a remote provider's pooled client made."),
    ("connections_reused", "Requests sent on a kept-alive pooled connection."),
)


class RemoteCollector:
    """Renders ``snapshot()`` (the configured providers' stats) at scrape time."""

    def __init__(self, snapshot: Callable[[], Sequence[ProviderStats]]) -> None:
        self._snapshot = snapshot

    def describe(self) -> Iterable[Metric]:
        """The families, without samples."""
        return list(families(()))

    def collect(self) -> Iterable[Metric]:
        """The families with current values."""
        return list(families(self._snapshot()))


def families(rows: Sequence[ProviderStats]) -> Iterator[Metric]:
    """Prometheus families of the providers' stats (empty families for none)."""
    for field, doc in _COUNTERS:
        family = CounterMetricFamily(f"ustad_remote_{field}", doc, labels=["provider"])
        for row in rows:
            family.add_metric([row.name], float(getattr(row, field)))
        yield family
    errors = CounterMetricFamily(
        "ustad_remote_errors",
        "Failed remote calls by kind (connect, timeout, reset, server, rate_limited, "
        "client, malformed, too_large, breaker_open, rejected).",
        labels=["provider", "kind"],
    )
    for row in rows:
        for kind, count in sorted(row.errors.items()):
            errors.add_metric([row.name, kind], float(count))
    yield errors
    state = GaugeMetricFamily(
        "ustad_remote_breaker_state",
        "A remote provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
        labels=["provider"],
    )
    for row in rows:
        state.add_metric([row.name], BREAKER_VALUES[row.breaker_state])
    yield state
    latency = HistogramMetricFamily(
        "ustad_remote_call_seconds",
        "Time of remote calls that reached the network (retries and backoff included).",
        labels=["provider"],
    )
    for row in rows:
        buckets = [
            (str(bound), float(n))
            for bound, n in zip(LATENCY_BUCKETS, row.latency_buckets, strict=True)
        ]
        buckets.append(("+Inf", float(row.latency_count)))
        latency.add_metric([row.name], buckets, row.latency_sum)
    yield latency


def remote_json(rows: Sequence[ProviderStats]) -> dict[str, dict[str, Any]]:
    """The providers' stats for ``/v1/stats``, keyed by provider (latency in ms)."""
    return {
        row.name: {
            "calls": row.calls,
            "attempts": row.attempts,
            "errors": dict(row.errors),
            "fallbacks": row.fallbacks,
            "breaker_state": row.breaker_state,
            "breaker_opened": row.breaker_opened,
            "connections_opened": row.connections_opened,
            "connections_reused": row.connections_reused,
            "mean_call_ms": round(1000.0 * row.latency_sum / row.latency_count, 1)
            if row.latency_count
            else None,
        }
        for row in rows
    }
