"""The figures of the peers benchmark: levels combined over repeats, targets, tables."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from peers_report import (
    PEER_STT,
    PEER_TTS,
    USTAD,
    format_tables,
    stt_level,
    targets,
    top_sentences,
    tts_level,
)


def run(
    throughput: float, cpu_ms: float | None, other: float | None, **extra: Any
) -> dict[str, Any]:
    """A run summary with the fields the report reads."""
    return {
        "throughput_per_second": throughput,
        "errors": 0,
        "server_cpu_ms_per_request": cpu_ms,
        "other_cpu_percent": other,
        **extra,
    }


def figures(p50: float, throughput: float) -> dict[str, Any]:
    """One side's combined figures at one level, as the tables read them."""
    return {
        "latency_ms": {"p50": p50, "p95": 2 * p50},
        "throughput_per_second": throughput,
        "wer": 0.1,
        "audio_seconds_mean": 1.5,
        "synth_calls_per_run": [3],
        "server_cpu_ms_per_request": 10.0,
        "other_cpu_percent_max": 5.0,
        "errors": 0,
    }


def test_stt_level_combines_repeats_and_keeps_first_transcripts() -> None:
    clip = SimpleNamespace(utt_id="u1", text="I like tea")
    level = {
        "runs": [run(2.0, 30.0, 5.0), run(4.0, 50.0, 20.0), run(3.0, None, None)],
        "latencies": [0.1, 0.2, 0.3],
        "pairs": [(clip, " I like tea. "), (clip, "I like the")],
    }
    combined = stt_level(level)
    assert combined["throughput_per_second"] == 3.0
    assert combined["server_cpu_ms_per_request"] == 40.0
    assert combined["other_cpu_percent_max"] == 20.0
    assert combined["transcripts"] == {"u1": "I like tea."}
    assert 0.0 < combined["wer"] < 1.0  # one of the two transcripts has a wrong word
    assert combined["runs"] == level["runs"]


def test_stt_level_without_answers_has_no_wer() -> None:
    combined = stt_level({"runs": [run(1.0, None, None)], "latencies": []})
    assert combined["wer"] is None
    assert combined["server_cpu_ms_per_request"] is None


def test_tts_level_reports_audio_and_synthesiser_calls() -> None:
    runs = [
        run(5.0, 8.0, 1.0, audio_seconds_mean=1.0, engine_calls={"tts_piper": 4}),
        run(7.0, 9.0, 2.0, audio_seconds_mean=2.0, engine_calls={}),
    ]
    combined = tts_level({"runs": runs, "latencies": [0.05]})
    assert combined["audio_seconds_mean"] == 1.5
    assert combined["synth_calls_per_run"] == [4, 0]
    assert (
        tts_level({"runs": [run(1.0, None, None, audio_seconds_mean=None)], "latencies": []})[
            "synth_calls_per_run"
        ]
        is None
    )


def test_top_sentences_most_requested_first_ties_by_text() -> None:
    top = top_sentences(["b", "a", "b", "c", "a", "b"], 2)
    assert top == [{"text": "b", "requests": 3}, {"text": "a", "requests": 2}]


def results() -> dict[str, Any]:
    return {
        "plan": {"repeats": 1},
        "stt": {
            "clips": [{}, {}],
            "levels": {
                "1": {USTAD: figures(100.0, 9.0), PEER_STT: figures(120.0, 8.0)},
                "8": {USTAD: figures(300.0, 12.0), PEER_STT: figures(900.0, 10.0)},
            },
        },
        "tts": {
            "ustad_response_format": "wav",
            "workloads": {
                "zipf": {
                    "requests": 16,
                    "distinct_sentences": 9,
                    "levels": {"1": {USTAD: figures(10.0, 60.0), PEER_TTS: figures(80.0, 10.0)}},
                },
            },
        },
    }


def test_targets_compare_ustad_with_the_primary_peer() -> None:
    found = {t["target"]: t for t in targets(results())}
    latency = found["STT latency at 1 client no worse than the peer (p50)"]
    assert (latency["ratio_peer_over_ustad"], latency["met"]) == (1.2, True)
    throughput = found["STT throughput at 8 clients >= 1.5x the peer"]
    assert (throughput["ratio_ustad_over_peer"], throughput["met"]) == (1.2, False)
    (tts,) = [t for name, t in found.items() if name.startswith("TTS")]
    assert (tts["ratio_ustad_over_peer"], tts["met"]) == (6.0, True)


def test_format_tables_has_a_row_per_side_and_level_and_the_targets() -> None:
    data = results()
    data["targets"] = targets(data)
    text = format_tables(data)
    assert "2 clips" in text
    assert "16 requests, 9 distinct sentences" in text
    rows = [line for line in text.splitlines() if line.startswith(("| 1 |", "| 8 |"))]
    assert len(rows) == 6  # STT: 2 sides x 2 levels; TTS: 2 sides x 1 level
    assert "| 8 | wyoming-faster-whisper | 900.0 | 1800.0 | 10.0 | 10.0 % |" in text
    assert text.count("| yes |") == 2
    assert text.count("| no |") == 1
