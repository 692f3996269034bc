"""The --compare table: claims next to measured ratios, from a results dict."""

from __future__ import annotations

from typing import Any

from ustad.bench.compare import (
    compare_configs,
    compare_table,
    level_bounds,
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
    # The baseline does not size its engines: CTranslate2's own thread default.
    assert baseline.env["USTAD_STT__CPU_THREADS"] == "0"
    assert "USTAD_STT__CPU_THREADS" not in optimised.env
    pinned, _ = compare_configs({"USTAD_STT__CPU_THREADS": "2"})
    assert pinned.env["USTAD_STT__CPU_THREADS"] == "2"


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


def collapsed(learners: int, waited_ms: float) -> dict[str, Any]:
    """A baseline run that served nobody: every learner dropped on its first turn."""
    return {
        "samples": [],
        "unserved": [
            {"sent": "urdu_utterance", "waited_ms": waited_ms, "kind": "dropped"}
            for _ in range(learners)
        ],
        "failures": {
            "learners": learners,
            "learners_dropped": learners,
            "reasons": {"keepalive timeout": learners},
            "turns_sent": learners,
            "turns_served": 0,
            "turns_not_served": learners,
            "messages_not_served": learners,
            "timeouts": 0,
            "cycles_planned": 2 * learners,
            "cycles_not_completed": 2 * learners,
        },
        "engine_calls": {},
        "requests": {},
        "event_loop_lag_ms": {"available": False},
    }


def healthy(learners: int, ms: float) -> dict[str, Any]:
    served = run(ms / 2000, 2, 1)
    served["failures"] = {
        "learners": learners,
        "learners_dropped": 0,
        "reasons": {},
        "turns_sent": 2,
        "turns_served": 2,
        "turns_not_served": 0,
        "messages_not_served": 0,
        "timeouts": 0,
        "cycles_planned": 2 * learners,
        "cycles_not_completed": 0,
    }
    served["unserved"] = []
    return served


def test_a_baseline_that_served_nobody_says_so() -> None:
    results = {
        "configs": {
            "baseline": {"runs": {"8": collapsed(8, 25_000.0)}},
            "optimised": {"runs": {"8": healthy(8, 1200.0)}},
        }
    }
    base = results["configs"]["baseline"]["runs"]["8"]
    facts, bounds = level_facts(base), level_bounds(base)
    assert facts["turn_p95_ms"] == 25_000.0 and "turn_p95_ms" in bounds
    assert served_learners(results["configs"]["baseline"]) == 0
    assert served_learners(results["configs"]["optimised"]) == 8
    table = compare_table(results)
    assert "| 8 | turns served | every turn answered | 0 of 8 | 2 of 2 | |" in table
    assert "| 8 | learners dropped | none | 8 of 8 (8 keepalive timeout) | 0 of 8 | |" in table
    assert "| 8 | cycles not completed | none | 16 of 16 | 0 of 16 | |" in table
    # Latency: at least what the learners waited, and the change is a bound too.
    assert "| turn latency p95 (target at 16 learners: optimised ≤ ⅓) | ≥ 25000 | 1170 |" in table
    assert "| ≤ -95 % |" in table
    # Stage figures the baseline never produced say why, in words.
    assert "| 8 | tts_ms | TTS 30–50 % faster (caching, pre-generation) | none served |" in table
    assert "| 0 | 8 | baseline served none; optimised served 8 |" in table
    assert "n/a" not in table


def test_a_dropped_learner_keeps_a_fast_level_from_counting_as_served() -> None:
    run_ = healthy(4, 1000.0)
    run_["failures"] = {**run_["failures"], "learners_dropped": 1}
    run_["unserved"] = [{"sent": "english_utterance", "waited_ms": 40.0, "kind": "dropped"}]
    assert served_learners({"runs": {"4": run_}}) == 0
    both_none = {
        "configs": {
            "baseline": {"runs": {"4": collapsed(4, 500.0)}},
            "optimised": {"runs": {"4": collapsed(4, 500.0)}},
        }
    }
    assert "neither served any level at p95 ≤ 1.5 s" in compare_table(both_none)
    assert "both are lower bounds" in compare_table(both_none)


def test_turns_answered_busy_are_in_no_latency() -> None:
    served = run(1.0, 10, 4)
    refused = run(1.0, 10, 4)
    busy = {**sample("urdu_utterance", 3, {}), "code": "busy"}
    refused["samples"] = [busy] * 5 + refused["samples"]
    # Five 3 ms refusals would otherwise be the Urdu p50 and pull the p95 down.
    assert level_facts(refused)["urdu_p95_ms"] == level_facts(served)["urdu_p95_ms"] == 2000.0
    # A level whose turns were refused is not a level served, however fast the rest.
    fast = run(0.1, 10, 4)
    assert served_learners({"runs": {"4": fast}}) == 4
    fast["failures"] = {"learners_dropped": 0, "turns_refused_busy": 1}
    assert served_learners({"runs": {"4": fast}}) == 0
