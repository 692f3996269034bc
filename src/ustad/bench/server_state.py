"""The server's own counters before and after a run, and their differences.

``GET /health`` (and ``GET /v1/stats`` where the server has it) at the start and the end
of a run; the results hold the differences, so work done at start-up (pre-generated
replies) is not counted in the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "ServerState",
    "cache_delta",
    "engine_calls_delta",
    "event_loop_lag",
    "executor_delta",
    "fetch_server_state",
    "requests_delta",
]


@dataclass(frozen=True)
class ServerState:
    """What the server said about itself at one moment."""

    health: dict[str, Any]
    stats: dict[str, Any] | None
    """``/v1/stats`` if the server has it."""


async def fetch_server_state(http_url: str) -> ServerState:
    """``GET /health`` and, if present, ``GET /v1/stats``."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        health = await client.get(f"{http_url}/health")
        health.raise_for_status()
        stats: dict[str, Any] | None = None
        try:
            response = await client.get(f"{http_url}/v1/stats")
            if response.status_code == 200:
                stats = response.json()
        except httpx.HTTPError:
            stats = None
    return ServerState(health.json(), stats)


def _counter_delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, int]:
    keys = sorted(set(before) | set(after))
    delta = {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in keys}
    return {k: v for k, v in delta.items() if v}


def requests_delta(before: ServerState, after: ServerState) -> dict[str, int]:
    """Speech work asked for during the run, before any cache (servers since ``requests``)."""
    return _counter_delta(before.health.get("requests", {}), after.health.get("requests", {}))


def engine_calls_delta(before: ServerState, after: ServerState) -> dict[str, int]:
    """Engine calls by kind made during the run."""
    return _counter_delta(
        before.health.get("engine_calls", {}), after.health.get("engine_calls", {})
    )


def executor_delta(before: ServerState, after: ServerState, wall: float) -> dict[str, Any]:
    """The engine executor during the run (``/health``'s ``executor``): its threads,
    calls, seconds calls waited for and ran on a thread, and ``busy_share``, the run
    seconds over threads x ``wall`` (1 = every thread busy all the time); empty for a
    server that does not report it."""
    start, end = before.health.get("executor"), after.health.get("executor")
    if not start or not end:
        return {}
    waited = float(end["wait_seconds_total"]) - float(start["wait_seconds_total"])
    ran = float(end["run_seconds_total"]) - float(start["run_seconds_total"])
    workers = int(end["workers"])
    return {
        "workers": workers,
        "calls": int(end["completed"])
        + int(end["failed"])
        - int(start["completed"])
        - int(start["failed"]),
        "wait_seconds": round(waited, 2),
        "run_seconds": round(ran, 2),
        "busy_share": round(ran / (workers * wall), 3) if workers else None,
    }


def cache_delta(before: ServerState, after: ServerState) -> dict[str, dict[str, Any]]:
    """Hits, misses and hit rate of each cache during the run, and its size after."""
    source_before = (before.stats or before.health).get("caches", {})
    source_after = (after.stats or after.health).get("caches", {})
    out: dict[str, dict[str, Any]] = {}
    for name, end in sorted(source_after.items()):
        start = source_before.get(name, {})
        hits = int(end.get("hits", 0)) - int(start.get("hits", 0))
        misses = int(end.get("misses", 0)) - int(start.get("misses", 0))
        row: dict[str, Any] = {
            "hits": hits,
            "misses": misses,
            "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None,
            "entries_after": end.get("entries"),
            "bytes_after": end.get("bytes"),
        }
        if "coalesced" in end:
            # Single-flight joins: requests that waited for an identical one in flight.
            row["coalesced"] = int(end["coalesced"]) - int(start.get("coalesced", 0))
        out[name] = row
    return out


def event_loop_lag(after: ServerState) -> dict[str, Any]:
    """The server's event-loop lag (from ``/v1/stats``), or why it is unavailable."""
    if after.stats is None:
        return {"available": False, "reason": "the server has no /v1/stats"}
    lag = after.stats.get("event_loop_lag_ms")
    if not isinstance(lag, dict):
        return {"available": False, "reason": "/v1/stats reports no event_loop_lag_ms"}
    return {
        "available": True,
        "source": "/v1/stats event_loop_lag_ms (the server's recent window, ms)",
        **lag,
    }
