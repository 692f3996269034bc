"""One benchmark: every server configuration at every learner count, same workload.

Each (configuration, learner count) pair is one run against a freshly started
server, so every run starts from the same state (empty caches, except the fixed
replies the server pre-generates, an empty database) and the server's peak memory
belongs to that run alone. Learner counts are the outer loop and configurations
the inner one, so when several configurations are compared, a slow stretch of a
shared machine hits all of them at about the same learner count rather than one
configuration's whole series.

Against a server given by URL there is one configuration and the server is reused
across learner counts: its caches stay warm from one run to the next (the results
say so), and CPU and memory are only known when its process id is given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ustad import __version__
from ustad.bench.learner import CycleOutcome, run_learners
from ustad.bench.report import (
    SCHEMA_VERSION,
    fetch_server_state,
    machine,
    run_report,
)
from ustad.bench.server import (
    ProcessSampler,
    ServerConfig,
    ServerProcess,
    load_average,
    machine_busy_seconds,
)
from ustad.bench.workload import Clip, Workload, describe_pools


class Progress:
    """Where the bench reports progress (the CLI passes a tqdm bar; tests a no-op)."""

    def describe(self, text: str) -> None:
        """What is happening now."""

    def cycle_done(self, outcome: CycleOutcome) -> None:
        """One learner finished one cycle."""

    def close(self) -> None:
        """The bench is over."""


@dataclass(frozen=True)
class Target:
    """Where the learners connect when the bench does not start the server."""

    url: str
    """``http://host:port`` or ``ws://host:port``."""
    pid: int | None = None
    """The server's process id, if it runs on this machine (for CPU and memory)."""

    @property
    def http_url(self) -> str:
        """The ``http://`` form."""
        return _with_scheme(self.url, "http")

    @property
    def ws_url(self) -> str:
        """The ``ws://`` form."""
        return _with_scheme(self.url, "ws")


def _with_scheme(url: str, scheme: str) -> str:
    rest = url.split("://", 1)[-1].rstrip("/")
    secure = url.startswith(("https://", "wss://"))
    return f"{scheme}{'s' if secure else ''}://{rest}"


@dataclass(frozen=True)
class BenchPlan:
    """What to run."""

    workload: Workload
    """Knobs; its ``learners`` is replaced by each level."""
    levels: Sequence[int]
    """Learner counts, one run each."""
    configs: Sequence[ServerConfig] = (ServerConfig(),)
    """Server configurations; with ``target``, exactly one that only names the server."""
    target: Target | None = None
    models_dir: Path | None = None
    reply_timeout: float = 300.0


async def run_bench(
    plan: BenchPlan,
    urdu_pool: Sequence[Clip],
    learner_pool: Sequence[Clip],
    *,
    results_dir: Path,
    progress: Progress | None = None,
    command: Sequence[str] = (),
) -> dict[str, Any]:
    """Run the plan; the results as one JSON-ready dict keyed by configuration name."""
    bar = progress or Progress()
    await asyncio.to_thread(results_dir.mkdir, parents=True, exist_ok=True)
    configs = list(plan.configs)
    if plan.target and (len(configs) != 1 or configs[0].env or configs[0].args):
        raise ValueError("a server given by URL is one configuration, without overrides")
    if len({c.name for c in configs}) != len(configs):
        raise ValueError("server configuration names must be unique")
    knobs = plan.workload.to_dict()
    knobs.pop("learners")
    results: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "tool": "ustad bench",
        "ustad_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command),
        "machine": machine(),
        "workload": {
            **knobs,
            "learner_levels": list(plan.levels),
            **describe_pools(urdu_pool, learner_pool, plan.workload.zipf),
        },
        "configs": {
            c.name: {
                "config": c.to_dict(),
                "server": (
                    {"started_by_bench": False, "url": plan.target.http_url}
                    if plan.target
                    else {"started_by_bench": True, "fresh_server_per_run": True}
                ),
                "runs": {},
            }
            for c in configs
        },
    }
    try:
        for level in plan.levels:
            workload = replace(plan.workload, learners=level)
            for config in configs:
                bar.describe(f"{config.name}: {level} learners")
                run = await _one_run(
                    plan, config, workload, urdu_pool, learner_pool, results_dir, bar
                )
                results["configs"][config.name]["runs"][str(level)] = run
    finally:
        bar.close()
    return results


async def _one_run(
    plan: BenchPlan,
    config: ServerConfig,
    workload: Workload,
    urdu_pool: Sequence[Clip],
    learner_pool: Sequence[Clip],
    results_dir: Path,
    bar: Progress,
) -> dict[str, Any]:
    if plan.target is not None:
        return await _measure(
            plan.target.http_url,
            plan.target.ws_url,
            plan.target.pid,
            plan,
            workload,
            urdu_pool,
            learner_pool,
            bar,
            extra={},
        )
    server = ServerProcess(
        config,
        models_dir=plan.models_dir,
        log_path=results_dir / f"server-{config.name}-{workload.learners}.log",
    )
    async with server:
        return await _measure(
            server.http_url,
            server.ws_url,
            server.pid,
            plan,
            workload,
            urdu_pool,
            learner_pool,
            bar,
            extra={
                "server_startup_seconds": round(server.startup_seconds, 2),
                "server_env": server.ustad_environment(),
            },
        )


async def _measure(
    http_url: str,
    ws_url: str,
    pid: int | None,
    plan: BenchPlan,
    workload: Workload,
    urdu_pool: Sequence[Clip],
    learner_pool: Sequence[Clip],
    bar: Progress,
    *,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    before = await fetch_server_state(http_url)
    load_start = load_average()
    machine_busy = machine_busy_seconds()
    client_cpu = time.process_time()
    sampler = ProcessSampler(pid) if pid is not None else None
    if sampler is not None:
        await sampler.__aenter__()
    try:
        learners, wall = await run_learners(
            ws_url,
            workload,
            urdu_pool,
            learner_pool,
            reply_timeout=plan.reply_timeout,
            progress=lambda _learner, outcome: bar.cycle_done(outcome),
        )
    finally:
        if sampler is not None:
            await sampler.__aexit__(None, None, None)
    client_cpu = time.process_time() - client_cpu
    machine_busy = machine_busy_seconds() - machine_busy
    load_end = load_average()
    # Let the server finish storing the last turns before reading its counters.
    await asyncio.sleep(0.2)
    after = await fetch_server_state(http_url)
    report = run_report(
        learners,
        wall,
        workload=workload,
        urdu_pool=urdu_pool,
        before=before,
        after=after,
        server_process=sampler.summary() if sampler is not None else None,
        client_cpu_seconds=client_cpu,
    )
    report["server_engines"] = after.health.get("engines")
    report["machine_load"] = _machine_load(
        machine_busy, wall, client_cpu, report["server_process"], load_start, load_end
    )
    report.update(extra)
    return report


def _machine_load(
    busy: float,
    wall: float,
    client_cpu: float,
    server: Mapping[str, Any],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
) -> dict[str, Any]:
    """How busy the machine was with things other than this server and this bench.

    On a shared machine this is the noise figure: a run whose ``other_cpu_percent``
    is high measured the neighbours as much as the server.
    """
    other = busy - client_cpu - float(server.get("cpu_seconds", 0.0))
    return {
        "loadavg_1m_start": round(load_start[0], 2),
        "loadavg_1m_end": round(load_end[0], 2),
        "busy_cpu_seconds": round(busy, 2),
        "other_cpu_seconds": round(other, 2) if server.get("available") else None,
        "other_cpu_percent": round(100.0 * other / wall, 1)
        if server.get("available") and wall > 0
        else None,
    }
