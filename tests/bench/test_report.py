"""Percentiles, the per-run report built from samples and counters, files written."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ustad.bench.learner import (
    CycleRecord,
    Failure,
    LearnerResult,
    MessageSample,
    UnservedMessage,
)
from ustad.bench.report import (
    DISTRIBUTION_PLOT,
    RESULTS_FILE,
    SCALING_PLOT,
    ServerState,
    format_table,
    latency_summary,
    percentile,
    run_report,
    write_plots,
    write_results,
)
from ustad.bench.workload import Clip, Workload


@pytest.mark.parametrize("p", [0, 10, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy_linear_interpolation(p: float) -> None:
    values = [12.0, 3.0, 7.5, 100.0, 42.0, 8.0, 9.0]
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_edges() -> None:
    assert math.isnan(percentile([], 50))
    assert percentile([4.0], 99) == 4.0
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_latency_summary_shape() -> None:
    summary = latency_summary([10.0, 20.0, 30.0, 40.0])
    assert summary == {"count": 4, "mean": 25.0, "p50": 25.0, "p95": 38.5, "p99": 39.7, "max": 40.0}
    assert latency_summary([])["p95"] is None


def _sample(
    learner: int, sent: Any, step: str, json_ms: float, audio_ms: float | None, **extra: Any
) -> MessageSample:
    return MessageSample(
        learner=learner,
        cycle=0,
        sent=sent,
        step=step,
        started=0.0,
        json_ms=json_ms,
        audio_ms=audio_ms,
        audio_bytes=0 if audio_ms is None else 1000,
        server_ms=extra.pop("server_ms", None),
        clip=extra.pop("clip", None),
        code=extra.pop("code", None),
    )


def _learner(index: int, urdu_ms: float, english_ms: float, outcome: Any) -> LearnerResult:
    result = LearnerResult(index)
    result.samples = [
        _sample(
            index,
            "urdu_utterance",
            "you_said_audio",
            urdu_ms - 5,
            urdu_ms,
            server_ms=urdu_ms - 20,
            clip="real.wav",
        ),
        _sample(index, "you_said_complete", "repeat_prompt", 2.0, None),
        _sample(index, "word_by_word_complete", "full_sentence_audio", 30.0, 31.0),
        _sample(
            index,
            "english_utterance",
            "feedback_step",
            english_ms - 3,
            english_ms,
            server_ms=english_ms - 10,
            clip="learner1",
        ),
        _sample(index, "next_sentence", "await_next", 5.0, 6.0),
        _sample(
            index, "urdu_utterance", "error", 50.0, None, clip="espeak:x", code="no_valid_audio"
        ),
    ]
    result.cycles = [CycleRecord(index, 0, outcome, ["real.wav"], 1, 10.0)]
    return result


def _state(
    calls: dict[str, int], hits: int, misses: int, stats: dict[str, Any] | None
) -> ServerState:
    caches = {"translation": {"hits": hits, "misses": misses, "entries": 3, "bytes": 10}}
    return ServerState({"engine_calls": calls, "caches": caches}, stats)


def _report(
    stats_after: dict[str, Any] | None = None, learners: list[LearnerResult] | None = None
) -> dict[str, Any]:
    learners = learners or [
        _learner(0, 2000.0, 1000.0, "skipped"),
        _learner(1, 4000.0, 3000.0, "urdu_not_understood"),
    ]
    pool = [
        Clip("real.wav", b"", "wav", "common_voice", "x", 1.0),
        Clip("espeak:x", b"", "wav", "espeak-ng", "y", 1.0),
    ]
    before = _state({"decode": 4, "tts_piper": 7}, hits=1, misses=2, stats=None)
    after = _state(
        {"decode": 10, "tts_piper": 7, "language_id": 2}, hits=7, misses=4, stats=stats_after
    )
    return run_report(
        learners,
        20.0,
        workload=Workload(learners=2, cycles=1),
        urdu_pool=pool,
        before=before,
        after=after,
        server_process={"available": True, "cpu_percent_mean": 150.0, "peak_rss_bytes": 2**30},
        client_cpu_seconds=0.5,
    )


def test_run_report_aggregates_turns_steps_and_counters() -> None:
    report = _report()
    assert set(report["per_turn"]) == {"urdu", "english"}
    urdu = report["per_turn"]["urdu"]
    # Two understood Urdu turns and two refused ones; latency is send to last frame.
    assert urdu["count"] == 4
    assert urdu["latency_ms"]["max"] == 4000.0
    assert urdu["audio_ms"]["count"] == 2
    assert report["per_turn"]["english"]["server_ms"]["p50"] == pytest.approx(1990.0)
    assert set(report["per_ack"]) == {"you_said_complete", "word_by_word_complete", "next_sentence"}
    assert "audio_ms" not in report["per_step"]["repeat_prompt"]
    assert report["per_step"]["full_sentence_audio"]["audio_ms"]["count"] == 2
    assert report["cycles"] == {
        "planned": 2,
        "completed": 1,
        "outcomes": {"skipped": 1, "urdu_not_understood": 1},
        "busy_repeats": 0,
        "seconds": latency_summary([10_000.0, 10_000.0]),
    }
    assert report["throughput"]["cycles_per_minute"] == pytest.approx(3.0)
    assert report["throughput"]["turns_per_second"] == pytest.approx(6 / 20)
    # Counter differences, zero differences dropped.
    assert report["engine_calls"] == {"decode": 6, "language_id": 2}
    assert report["caches"]["translation"]["hits"] == 6
    assert report["caches"]["translation"]["hit_rate"] == pytest.approx(0.75)
    assert report["error_replies"] == {"no_valid_audio": 2}
    assert report["urdu_clips"]["espeak:x"] == {
        "synthetic": True,
        "said": 2,
        "refused_busy": 0,
        "understood": 0,
        "latency_ms_p50": 50.0,
    }
    assert report["urdu_clips"]["real.wav"]["understood"] == 2
    assert report["event_loop_lag_ms"]["available"] is False
    assert len(report["samples"]) == 12


def test_turns_answered_busy_are_counted_but_not_in_latency() -> None:
    learners = [_learner(0, 2000.0, 1000.0, "skipped")]
    busy = _sample(0, "urdu_utterance", "error", 4.0, None, clip="real.wav", code="busy")
    learners[0].samples.insert(0, busy)
    learners[0].cycles[0].busy_repeats = 1
    report = _report(learners=learners)
    urdu = report["per_turn"]["urdu"]
    assert (urdu["count"], urdu["refused_busy"], urdu["latency_ms"]["served"]) == (3, 1, 2)
    # The 4 ms refusal is in no latency figure: the fastest Urdu turn is the 50 ms error.
    assert urdu["latency_ms"]["p50"] == pytest.approx(1025.0)
    assert report["urdu_clips"]["real.wav"]["refused_busy"] == 1
    assert report["urdu_clips"]["real.wav"]["said"] == 1
    assert report["cycles"]["busy_repeats"] == 1
    assert report["failures"]["turns_refused_busy"] == 1
    # Nor in the steps' figures or the turns done: the other error did work, it stays.
    assert report["per_step"]["error"]["latency_ms"]["count"] == 1
    assert report["throughput"]["turns_per_second"] == pytest.approx(3 / 20)
    table = format_table({"configs": {"default": {"runs": {"1": report}}}})
    urdu_row = next(row for row in table.splitlines() if " urdu " in row)
    assert urdu_row.split()[3:5] == ["3", "2/3"]  # sent, served of sent
    assert "served 3 of 4 turns (1 answered busy)" in table


def test_event_loop_lag_comes_from_v1_stats_when_present() -> None:
    lag = {"interval": 50.0, "samples": 100, "p50": 1.0, "p99": 12.5, "max": 40.0}
    report = _report({"event_loop_lag_ms": lag, "caches": {}})
    assert report["event_loop_lag_ms"]["available"] is True
    assert report["event_loop_lag_ms"]["p99"] == 12.5


def _results(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": 1,
        "configs": {
            "default": {"config": {"name": "default"}, "runs": {"2": report, "1": report}},
            "other": {"config": {"name": "other"}, "runs": {"2": report}},
        },
    }


def test_results_json_and_plots_are_written(tmp_path: Path) -> None:
    results = _results(_report())
    path = write_results(results, tmp_path / "out")
    assert path == tmp_path / "out" / RESULTS_FILE
    loaded = json.loads(path.read_text(encoding="utf-8"))
    run = loaded["configs"]["default"]["runs"]["2"]
    assert run["per_turn"]["urdu"]["latency_ms"]["p95"] == pytest.approx(3700.0)
    plots = write_plots(loaded, tmp_path / "out")
    assert [p.name for p in plots] == [DISTRIBUTION_PLOT, SCALING_PLOT]
    for plot in plots:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_has_a_row_per_config_level_and_turn() -> None:
    table = format_table(_results(_report()))
    body, notes = table.split("\n\n")
    rows = body.splitlines()[2:]
    assert len(rows) == 6
    assert rows[0].split()[:5] == ["default", "1", "english", "2", "2/2"]
    assert "n/a" in rows[0]  # no /v1/stats: lag is not made up, and the notes say why
    assert "lag p99 n/a for default: the server has no /v1/stats" in notes
    assert "≥" not in table  # every turn was served: no lower bounds


def test_unserved_turns_count_in_the_headline_latency_and_the_plots(tmp_path: Path) -> None:
    dropped = LearnerResult(2)
    dropped.unserved = [
        UnservedMessage(2, 0, "urdu_utterance", 0.5, 20_000.0, "dropped", "real.wav")
    ]
    dropped.failure = Failure(2, 0, "dropped", "keepalive timeout", "ConnectionClosedError", 1011)
    dropped.cycles = [CycleRecord(2, 0, "error")]
    learners = [_learner(0, 2000.0, 1000.0, "skipped"), dropped]
    state = ServerState({}, None)
    report = run_report(
        learners,
        20.0,
        workload=Workload(learners=2, cycles=1),
        urdu_pool=[],
        before=state,
        after=state,
        server_process=None,
    )
    urdu = report["per_turn"]["urdu"]
    assert (urdu["count"], urdu["not_served"]) == (3, 1)
    assert urdu["latency_ms"]["max"] == 20_000.0 and "max" in urdu["latency_ms"]["lower_bound"]
    assert urdu["served_latency_ms"]["max"] == 2000.0  # served alone, for reference
    assert report["failures"]["learners_dropped"] == 1
    assert report["failures"]["reasons"] == {"keepalive timeout": 1}
    assert report["unserved"][0]["waited_ms"] == 20_000.0
    assert report["learner_results"][1]["failure"]["close_code"] == 1011
    results = {"configs": {"x": {"runs": {"2": report}}}}
    assert "1 of 2 learners dropped (1 keepalive timeout)" in format_table(results)
    plots = write_plots(json.loads(json.dumps(results)), tmp_path)
    assert all(plot.read_bytes()[:4] == b"\x89PNG" for plot in plots)
