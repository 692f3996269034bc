"""The --compare table: claims next to measured ratios, from a results dict."""

from __future__ import annotations

from typing import Any

from ustad.bench.compare import (
    compare_configs,
    compare_table,
    level_facts,
    served_learners,
)


def sample(sent: str, ms: float, stages: dict[str, float]) -> dict[str, Any]:
    return {"sent": sent, "json_ms": ms, "audio_ms": ms, "stages": stages}


def run(scale: float, tts_calls: int, whisper_calls: int) -> dict[str, Any]:
    samples = [
        sample(
            "urdu_utterance",
            2000 * scale,
            {"stt": 1500 * scale, "translate": 400 * scale, "tts": 100 * scale},
        ),
        sample("english_utterance", 1000 * scale, {"stt": 800 * scale, "tts": 150 * scale}),
        sample("you_said_complete", 2, {}),
    ]
    return {
        "samples": samples,
        "engine_calls": {"tts_piper": tts_calls, "translate_whisper": whisper_calls, "vad": 9},
        "event_loop_lag_ms": {"p99": 900 * scale},
    }


def test_facts_and_table() -> None:
    results = {
        "configs": {
            "baseline": {"runs": {"1": run(1.0, 10, 4), "4": run(4.0, 40, 16)}},
            "optimised": {"runs": {"1": run(0.5, 2, 1), "4": run(0.7, 8, 4)}},
        }
    }
    facts = level_facts(results["configs"]["optimised"]["runs"]["1"])
    assert facts["stt_translate_ms"] == 950.0
    assert facts["tts_engine_calls"] == 2 and facts["translation_provider_calls"] == 1
    assert served_learners(results["configs"]["optimised"]) == 4  # p95 1.4 s at 4 learners
    assert served_learners(results["configs"]["baseline"]) == 0
    table = compare_table(results)
    assert "| 1 | tts_engine_calls | fewer TTS engine calls | 10 | 2 | -80 % |" in table
    assert (
        "3–5× more concurrent users | 0 | 4 | baseline served none; optimised served 4 |" in table
    )
    assert compare_table({"configs": {"x": {}}}).startswith("(no comparison")


def test_compare_configs_set_the_mode() -> None:
    baseline, optimised = compare_configs({"USTAD_LOG_LEVEL": "WARNING"})
    assert baseline.env["USTAD_RUNTIME__MODE"] == "baseline"
    assert "USTAD_RUNTIME__MODE" not in optimised.env
    assert optimised.env["USTAD_LOG_LEVEL"] == "WARNING"


def test_overhead_and_engine_shares() -> None:
    # Engine 1800 of a 1830 ms turn (server: 10 ms queue, 12 ms own time).
    timed = sample(
        "urdu_utterance",
        1830,
        {"stt": 1500, "engine": 1800, "queue": 10, "overhead": 12, "total": 1822},
    )
    untimed = sample("english_utterance", 900, {"stt": 800})  # an older server
    facts = level_facts(
        {
            "samples": [timed, untimed],
            "engine_calls": {"tts_piper": 3, "tts_espeak-ng": 1, "translate_memory": 2},
            "requests": {"tts_replies": 10, "tts_segments": 20, "translation": 8},
            "event_loop_lag_ms": {},
        }
    )
    assert facts["outside_engine_p50_ms"] == 30.0
    assert facts["server_overhead_p50_ms"] == 12.0
    assert facts["tts_engine_share"] == 20.0
    assert facts["translation_engine_share"] == 25.0
    # Without request counts (an older server) there is no share to show.
    assert level_facts({**run(1.0, 4, 1), "requests": {}})["tts_engine_share"] is None
