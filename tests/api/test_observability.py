"""/metrics and /v1/stats over real HTTP after a real WebSocket turn (fake recognisers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.api.conftest import (
    RunningApp,
    Script,
    connect,
    fake_services_factory,
    make_settings,
    serve,
)
from tests.conftest import UrduClip
from ustad.app import create_app
from ustad.caching import MemoryCache
from ustad.services import Services
from ustad.settings import Settings


def samples_of(text: str) -> dict[str, list[Sample]]:
    """Samples by family name (counters lose ``_total`` in the family name)."""
    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float | None:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) <= 1
    return found[0] if found else None


async def test_one_turn_shows_in_metrics_and_stats(
    fake_app: RunningApp, urdu_clips: list[UrduClip]
) -> None:
    async with (
        connect(fake_app.address) as client,
        httpx.AsyncClient(base_url=f"http://{fake_app.address}") as http,
    ):
        await client.say(urdu_clips[0].path.read_bytes())
        you_said = await client.receive()
        assert you_said.step == "you_said_audio"
        # The turn is stored after its reply, before the next message is handled.
        await client.ack("you_said_complete")
        assert (await client.receive()).step == "repeat_prompt"
        # Asked while the learner is still connected.
        response = await http.get("/metrics")
        stats_response = await http.get("/v1/stats")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = samples_of(response.text)

    assert value(families["ustad_turns"], "ustad_turns_total", step="you_said_audio") == 1
    assert value(families["ustad_sessions_active"], "ustad_sessions_active") == 1
    turn = families["ustad_turn_seconds"]
    assert value(turn, "ustad_turn_seconds_count", step="you_said_audio") == 1
    stages = families["ustad_stage_seconds"]
    for stage in ("decode", "vad", "stt", "translate", "tts", "store"):
        assert value(stages, "ustad_stage_seconds_count", stage=stage) == 1, stage
        assert value(stages, "ustad_stage_seconds_bucket", stage=stage, le="+Inf") == 1
    assert value(families["ustad_engine_calls"], "ustad_engine_calls_total", kind="decode") == 1
    # The reply's audio was rendered for this turn: a miss in the whole-reply cache.
    misses = value(families["ustad_cache_misses"], "ustad_cache_misses_total", cache="tts_audio")
    assert misses is not None and misses >= 1
    entries = value(families["ustad_cache_entries"], "ustad_cache_entries", cache="tts_audio")
    assert entries is not None and entries >= 1
    assert value(families["ustad_executor_workers"], "ustad_executor_workers") == 2
    completed = value(families["ustad_executor_completed"], "ustad_executor_completed_total")
    assert completed is not None and completed >= 4  # decode, vad, stt, tts at least
    assert "ustad_event_loop_lag_seconds" in families
    assert "process_resident_memory_bytes" in families

    assert stats_response.status_code == 200
    stats = stats_response.json()
    assert stats["turns"]["by_step"] == {"you_said_audio": 1}
    assert stats["sessions_active"] == 1
    assert set(stats["stages_ms"]) >= {"decode", "vad", "stt", "translate", "tts", "store"}
    assert {"p50", "p95", "p99", "count"} <= set(stats["stages_ms"]["stt"])
    assert stats["turns"]["latency_ms"]["you_said_audio"]["count"] == 1
    assert stats["engine_calls"]["decode"] == 1
    tts_audio = stats["caches"]["tts_audio"]
    assert tts_audio["misses"] == misses
    assert 0.0 <= tts_audio["hit_rate"] <= 1.0
    assert stats["executor"]["completed"] >= completed  # /v1/stats was asked later
    assert stats["executor"]["workers"] == 2
    assert {"p50", "p99", "max", "samples"} <= set(stats["event_loop_lag_ms"])
    assert stats["process"]["cpu_seconds"] > 0
    assert stats["process"]["max_rss_bytes"] > 0


async def sessions_active(http: httpx.AsyncClient, want: int) -> int:
    """Poll ``/v1/stats`` until it shows ``want`` sessions (the server notices a moment later)."""
    for _ in range(200):
        seen = int((await http.get("/v1/stats")).json()["sessions_active"])
        if seen == want:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_sessions_gauge_follows_connections(fake_app: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}") as http:
        async with connect(fake_app.address), connect(fake_app.address):
            during = await sessions_active(http, 2)
            gauge = samples_of((await http.get("/metrics")).text)["ustad_sessions_active"]
        after = await sessions_active(http, 0)
    assert (during, after) == (2, 0)
    assert value(gauge, "ustad_sessions_active") == 2


async def test_a_cache_added_to_the_service_shows_in_health_stats_and_metrics(
    tmp_path: Path,
) -> None:
    # A cache none of the three endpoints has heard of, passed in like Whisper's.
    extra: MemoryCache[str, bytes] = MemoryCache("new_cache", size_of=len, max_bytes=100)
    extra.put("a", b"1234")
    assert extra.get("a") == b"1234" and extra.get("b") is None
    build_fakes = fake_services_factory(Script())

    async def build(settings: Settings) -> Services:
        services: Services = await build_fakes(settings)
        services.speech.engine_caches += (extra.stats,)
        services.speech.engine_calls["new_kind"] += 3
        return services

    app = create_app(make_settings(tmp_path), services_factory=build)
    with serve(app) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            health = (await http.get("/health")).json()
            stats = (await http.get("/v1/stats")).json()
            metrics = samples_of((await http.get("/metrics")).text)

    want: dict[str, Any] = {"hits": 1, "misses": 1, "entries": 1, "bytes": 4, "hit_rate": 0.5}
    for body in (health, stats):
        assert want.items() <= body["caches"]["new_cache"].items()
        assert body["caches"]["new_cache"]["max_bytes"] == 100
        assert body["engine_calls"]["new_kind"] == 3
        assert body["executor"]["workers"] == 2
    for field in ("hits", "misses"):
        family = metrics[f"ustad_cache_{field}"]
        assert value(family, f"ustad_cache_{field}_total", cache="new_cache") == 1
    assert value(metrics["ustad_cache_bytes"], "ustad_cache_bytes", cache="new_cache") == 4
    assert value(metrics["ustad_cache_entries"], "ustad_cache_entries", cache="new_cache") == 1
    calls = metrics["ustad_engine_calls"]
    assert value(calls, "ustad_engine_calls_total", kind="new_kind") == 3
