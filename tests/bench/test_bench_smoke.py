"""``ustad bench`` end to end: a real server process with the packaged engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from ustad.bench.cli import run
from ustad.bench.report import DISTRIBUTION_PLOT, RESULTS_FILE, SCALING_PLOT


@pytest.mark.models
def test_bench_two_learners_one_cycle(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "results"
    status = run(
        [
            "--learners", "2",
            "--cycles", "1",
            "--attempts", "1",
            "--think-time", "0.1",
            "--synthetic-urdu", "1",
            "--results", str(out),
            "--data", str(shared_data),
            "--models-dir", str(REPO_ROOT / "var" / "models"),
            "--no-progress",
        ]
    )  # fmt: skip
    assert status == 0
    assert (out / DISTRIBUTION_PLOT).stat().st_size > 1000
    assert (out / SCALING_PLOT).stat().st_size > 1000
    results = json.loads((out / RESULTS_FILE).read_text(encoding="utf-8"))
    assert results["workload"]["urdu_pool_real"] == 2
    assert results["workload"]["urdu_pool_synthetic"] == 1
    run_result = results["configs"]["default"]["runs"]["2"]
    assert run_result["errors"] == []
    assert [r["cycles_completed"] for r in run_result["learner_results"]] == [1, 1]
    assert run_result["per_turn"]["urdu"]["latency_ms"]["count"] >= 2
    assert run_result["per_turn"]["english"]["latency_ms"]["count"] == 2
    # The server did the work: real engines were called, measured from /proc.
    assert run_result["engine_calls"]["stt_english_transcribe"] == 2
    assert run_result["server_process"]["available"] is True
    # Some CPU, however fast the machine (the engine calls above are the counted work).
    assert run_result["server_process"]["cpu_seconds"] > 0
    assert run_result["server_process"]["peak_rss_bytes"] > 100 * 2**20
    assert run_result["server_env"]["USTAD_AUDIO_STORE__PREGENERATE_PHRASES"] == "false"
