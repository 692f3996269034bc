"""Per-app metrics: isolated registries, observed values and live engine/cache/executor state."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ustad.runtime.executor import EngineExecutor
from ustad.runtime.metrics import ServiceMetrics, process_usage
from ustad.runtime.speech_service import SpeechService
from ustad.settings import TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.types import Segment

URDU = "مجھے پانی چاہیے"


@pytest.fixture
async def speech() -> AsyncIterator[SpeechService]:
    executor = EngineExecutor(2)
    translator = FakeTranslator({URDU: "I want water."})
    stt = FakeTranscriber(lambda audio, language, task: transcript_of("hello"))
    service = SpeechService(
        executor=executor,
        english_stt=stt,
        multilingual_stt=stt,
        voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur", voice="fake-ur")},
        translators=[translator],
        normalizer=translator,
        tts=TtsSettings(audio_format="wav"),
        tts_cache_bytes=8 * 1024 * 1024,
        translation_cache_entries=100,
    )
    yield service
    executor.shutdown()


def test_two_instances_keep_separate_registries() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()  # same names: must not clash
    first.observe_turn("you_said_audio", {"stt": 120.0, "total": 300.0})
    first.sessions_active += 2
    assert first.registry is not second.registry
    assert first.registry.get_sample_value("ustad_turns_total", {"step": "you_said_audio"}) == 1
    assert second.registry.get_sample_value("ustad_turns_total", {"step": "you_said_audio"}) is None
    assert first.registry.get_sample_value("ustad_sessions_active") == 2
    assert second.registry.get_sample_value("ustad_sessions_active") == 0


def test_observe_turn_fills_histograms_counters_and_windows() -> None:
    metrics = ServiceMetrics()
    metrics.observe_turn("you_said_audio", {"decode": 4.0, "stt": 800.0, "total": 1200.0})
    metrics.observe_turn("you_said_audio", {"decode": 6.0, "stt": 40.0, "total": 90.0})
    metrics.observe_turn("feedback_step", {"assess": 3.0, "total": 2.0})
    metrics.sessions_active += 1
    metrics.sessions_active += 1
    metrics.sessions_active -= 1
    registry = metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("ustad_turns_total", step="you_said_audio") == 2
    assert value("ustad_turns_total", step="feedback_step") == 1
    assert value("ustad_turn_seconds_count", step="you_said_audio") == 2
    assert value("ustad_turn_seconds_sum", step="you_said_audio") == pytest.approx(1.29)
    assert value("ustad_stage_seconds_count", stage="stt") == 2
    # 40 ms falls in the 50 ms bucket, 800 ms does not; both fit under 1 s.
    assert value("ustad_stage_seconds_bucket", stage="stt", le="0.05") == 1
    assert value("ustad_stage_seconds_bucket", stage="stt", le="1.0") == 2
    assert value("ustad_stage_seconds_count", stage="total") is None  # total is the turn
    assert value("ustad_sessions_active") == 1
    assert metrics.sessions_active == 1

    stats = metrics.stats()
    assert stats["turns"]["by_step"] == {"feedback_step": 1, "you_said_audio": 2}
    assert stats["turns"]["total"] == 3
    assert stats["stages_ms"]["stt"]["count"] == 2
    assert stats["stages_ms"]["stt"]["p50"] == pytest.approx(420.0)
    assert stats["stages_ms"]["stt"]["max"] == 800.0
    assert stats["turns"]["latency_ms"]["you_said_audio"]["p99"] == pytest.approx(1188.9, abs=0.1)
    assert stats["sessions_active"] == 1
    assert "caches" not in stats  # no speech layer to read


def test_stage_windows_are_bounded() -> None:
    metrics = ServiceMetrics(window=2)
    for ms in (1000.0, 1.0, 2.0):
        metrics.observe_turn("s", {"stt": ms, "total": ms})
    stt = metrics.stats()["stages_ms"]["stt"]
    assert stt["count"] == 3
    assert stt["p99"] < 3.0  # the 1000 ms sample left the window
    assert stt["max"] == 1000.0


async def test_collector_reads_a_live_speech_service(speech: SpeechService) -> None:
    metrics = ServiceMetrics(speech=speech)
    registry = metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("ustad_executor_workers") == 2
    assert value("ustad_executor_completed_total") == 0
    assert value("ustad_cache_misses_total", cache="tts_segments") == 0

    segment = Segment("en", "Now repeat after me.")
    await speech.synthesize_segment(segment)
    await speech.synthesize_segment(segment)
    assert (await speech.translate(URDU)) is not None
    assert (await speech.translate(URDU)) is not None

    # Nothing was pushed into the metrics: the collector reads the state at scrape time.
    assert value("ustad_engine_calls_total", kind="tts_fake-tts") == 1
    assert value("ustad_engine_calls_total", kind="translate_fake-mt") == 1
    assert value("ustad_cache_hits_total", cache="tts_segments") == 1
    assert value("ustad_cache_misses_total", cache="tts_segments") == 1
    assert value("ustad_cache_entries", cache="tts_segments") == 1
    segment_bytes = speech.segment_cache.stats().bytes
    assert segment_bytes > 0
    assert value("ustad_cache_bytes", cache="tts_segments") == segment_bytes
    assert value("ustad_cache_hits_total", cache="translation") == 1
    assert value("ustad_cache_evictions_total", cache="translation") == 0
    assert value("ustad_cache_coalesced_total", cache="tts_audio") == 0
    assert value("ustad_executor_completed_total") == 1
    assert value("ustad_executor_failed_total") == 0
    assert value("ustad_executor_queued") == 0
    run_seconds = value("ustad_executor_run_seconds_total")
    assert run_seconds is not None and run_seconds > 0

    stats = metrics.stats()
    assert stats["engine_calls"] == {"translate_fake-mt": 1, "tts_fake-tts": 1}
    assert stats["caches"]["tts_segments"]["hit_rate"] == 0.5
    assert stats["executor"]["completed"] == 1


async def test_exposition_is_parseable_prometheus_text(speech: SpeechService) -> None:
    metrics = ServiceMetrics(speech=speech)
    metrics.observe_turn("you_said_audio", {"stt": 10.0, "total": 20.0})
    metrics.loop_monitor.record(0.002)
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert families["ustad_turns"].type == "counter"
    assert families["ustad_stage_seconds"].type == "histogram"
    assert families["ustad_event_loop_lag_seconds"].type == "histogram"
    assert families["ustad_cache_hits"].type == "counter"
    assert families["ustad_executor_workers"].type == "gauge"
    assert "process_cpu_seconds" in families
    lag_count = [
        s.value
        for s in families["ustad_event_loop_lag_seconds"].samples
        if s.name.endswith("_count")
    ]
    assert lag_count == [1]


def test_process_usage_reports_cpu_and_memory() -> None:
    usage = process_usage()
    assert usage.cpu_seconds > 0
    assert usage.max_rss_bytes > 1024 * 1024
    assert usage.rss_bytes is None or usage.rss_bytes > 1024 * 1024
