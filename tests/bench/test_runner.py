"""``run_bench`` against a server given by URL (fake engines): the results layout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.api.conftest import RunningApp
from ustad.bench.report import format_table, write_plots
from ustad.bench.runner import BenchPlan, Target, run_bench
from ustad.bench.server import ServerConfig
from ustad.bench.workload import Clip, Workload


async def test_results_are_keyed_by_configuration_and_learner_count(
    fake_app: RunningApp, real_urdu: list[Clip], learner_clips_pool: list[Clip], tmp_path: Path
) -> None:
    plan = BenchPlan(
        workload=Workload(cycles=2, think_time=0.0, synthetic_urdu=0),
        levels=[1, 3],
        configs=[ServerConfig("fake")],
        # The fake server runs in this process, so this pid is the server's too.
        target=Target(f"http://{fake_app.address}", pid=os.getpid()),
    )
    results = await run_bench(plan, real_urdu, learner_clips_pool[:5], results_dir=tmp_path)
    assert list(results["configs"]) == ["fake"]
    config = results["configs"]["fake"]
    assert config["server"]["started_by_bench"] is False
    assert list(config["runs"]) == ["1", "3"]
    three = config["runs"]["3"]
    assert three["learners"] == 3
    assert three["cycles"]["completed"] == 6 and three["cycles"]["outcomes"] == {"passed": 6}
    assert three["per_turn"]["urdu"]["count"] == 6
    # Counters are differences over the run: the 1-learner run's calls are not in it.
    assert three["engine_calls"]["decode"] == 12
    assert three["server_process"]["available"] is True
    assert three["machine_load"]["busy_cpu_seconds"] >= 0
    assert results["workload"]["learner_levels"] == [1, 3]
    assert "learners" not in results["workload"]  # it varies per run, so it lives there
    assert len(format_table(results).splitlines()) == 2 + 4
    assert all(p.is_file() for p in write_plots(results, tmp_path))


async def test_a_url_server_cannot_take_overrides(
    real_urdu: list[Clip], learner_clips_pool: list[Clip], tmp_path: Path
) -> None:
    plan = BenchPlan(
        workload=Workload(),
        levels=[1],
        configs=[ServerConfig("x", {"USTAD_LOG_LEVEL": "DEBUG"})],
        target=Target("http://127.0.0.1:9"),
    )
    with pytest.raises(ValueError, match="without overrides"):
        await run_bench(plan, real_urdu, learner_clips_pool, results_dir=tmp_path)


def test_target_urls_in_both_schemes() -> None:
    target = Target("ws://h:1/")
    assert (target.http_url, target.ws_url) == ("http://h:1", "ws://h:1")
    assert Target("https://h").ws_url == "wss://h"
