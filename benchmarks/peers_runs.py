"""The runs of ``peers.py``: servers started, warmed up and measured, level by level.

``run_stt`` measures ustad and the Whisper peer(s) on learner clips; ``run_tts`` ustad
(a fresh server per run) and the Piper peer on phrase-bank sentences. Both return the
per-level figures of :mod:`peers_report` and report progress on stderr.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from peers_measure import (
    CpuWindow,
    Sample,
    distinct_requests,
    run_clients,
    run_summary,
    side_order,
    zipf_requests,
)
from peers_report import (
    PEER_STT,
    PEER_STT_DEFAULT_BEAM,
    PEER_TTS,
    USTAD,
    stt_level,
    top_sentences,
    tts_level,
)
from peers_servers import PeerProcess, piper_peer, whisper_peer
from peers_workloads import (
    TTS_FORMAT,
    WARM_UP_SENTENCE,
    ZIPF_EXPONENT,
    Clip,
    english_sentences,
    load_clips,
    peer_speak,
    peer_transcribe,
    ustad_speak,
    ustad_transcribe,
)

from ustad.bench.report import engine_calls_delta, fetch_server_state
from ustad.bench.server import (
    BENCH_DEFAULTS,
    ServerConfig,
    ServerProcess,
    machine_busy_seconds,
    sample_process,
)
from ustad.settings import Settings
from ustad.speech.model_paths import english_whisper_dir, piper_voice_path

PEER_DEFAULT_BEAM: Final = 5
"""wyoming-faster-whisper's ``--beam-size 0`` (auto) on x86."""
USTAD_ENV: Final = {
    # Fixed learn-cycle replies are synthesised before a server is ready; REST speech
    # never uses them, so they would only make every fresh TTS server slower to start.
    "USTAD_RUNTIME__PREGENERATE": "false",
    # A REST-only comparison: no learners to keep engine threads for, so REST may use
    # them all (by default it gets one slot, leaving the rest to learners' turns).
    "USTAD_RUNTIME__REST_CONCURRENCY": "64",
    "USTAD_RUNTIME__REST_QUEUE": "256",
}
REQUEST_TIMEOUT: Final = 120.0


@dataclass
class Servers:
    """Every server process running now, by side name (for the CPU figures)."""

    pids: dict[str, int] = field(default_factory=dict)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each server's process tree has used so far."""
        out = {}
        for name, pid in self.pids.items():
            try:
                out[name] = sample_process(pid).cpu_seconds
            except ProcessLookupError:
                continue
        return out


async def measured_run(
    side: str,
    items: Sequence[Any],
    clients: int,
    call: Callable[[Any], Awaitable[Any]],
    servers: Servers,
) -> tuple[dict[str, Any], list[Sample[Any]]]:
    """One side, one workload, one client count: the run's summary and its samples."""
    busy, bench = machine_busy_seconds(), time.process_time()
    before = servers.cpu_seconds()
    samples, wall = await run_clients(items, clients, call, request_timeout=REQUEST_TIMEOUT)
    after = servers.cpu_seconds()
    window = CpuWindow(
        wall=wall,
        machine_busy=machine_busy_seconds() - busy,
        bench=time.process_time() - bench,
        servers={k: after[k] - before[k] for k in after if k in before},
    )
    summary = run_summary(samples, wall)
    summary.update(window.summary(side, len(samples)))
    return summary, samples


def progress(message: str) -> None:
    """One line of progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def describe_run(
    kind: str, side: str, clients: int, repeat: int, summary: Mapping[str, Any]
) -> str:
    """The progress line of a finished run."""
    latency = summary["latency_ms"]
    return (
        f"{kind} {clients:>2} client(s) repeat {repeat + 1} {side:<40} "
        f"{summary['throughput_per_second']}/s p50 {latency['p50']} ms "
        f"p95 {latency['p95']} ms errors {summary['errors']} "
        f"other CPU {summary['other_cpu_percent']} %"
    )


@dataclass(frozen=True)
class Plan:
    """Sizes and knobs of one invocation."""

    clips: int
    requests: int
    distinct: int
    clients: tuple[int, ...]
    repeats: int
    seed: int
    peer_default_beam: bool


def _level(results: dict[str, Any], clients: int, side: str) -> dict[str, Any]:
    level: dict[str, Any] = results.setdefault(str(clients), {}).setdefault(
        side, {"runs": [], "latencies": []}
    )
    return level


async def run_stt(plan: Plan, models_dir: Path, peers_python: Path, logs: Path) -> dict[str, Any]:
    """Every STT level for ustad and the Whisper peer(s)."""
    clips, warm_up = load_clips(plan.clips, plan.seed)
    stt = Settings(_env_file=None).stt  # what the started server will use (same environment)
    settings = {**BENCH_DEFAULTS, **USTAD_ENV}
    model_dir = english_whisper_dir(stt.english_model)
    peers = [
        whisper_peer(
            PEER_STT,
            model_dir,
            compute_type=stt.compute_type,
            beam_size=stt.beam_size,
            cpu_threads=stt.cpu_threads,
        )
    ]
    if plan.peer_default_beam:
        peers.append(
            whisper_peer(
                PEER_STT_DEFAULT_BEAM,
                model_dir,
                compute_type=stt.compute_type,
                beam_size=PEER_DEFAULT_BEAM,
                cpu_threads=stt.cpu_threads,
            )
        )
    levels: dict[str, Any] = {}
    servers = Servers()
    async with AsyncExitStack() as stack:
        ustad = ServerProcess(
            ServerConfig(USTAD, settings),
            models_dir=models_dir,
            log_path=logs / "ustad-stt.log",
        )
        await stack.enter_async_context(ustad)
        http = await stack.enter_async_context(_http_client(max(plan.clients)))
        calls: dict[str, Callable[[Clip], Awaitable[str]]] = {
            USTAD: lambda clip: ustad_transcribe(http, ustad.http_url, clip)
        }
        servers.pids[USTAD] = ustad.pid
        started: dict[str, float] = {USTAD: ustad.startup_seconds}
        for spec in peers:
            peer = await stack.enter_async_context(
                PeerProcess(spec, peers_python, log_path=logs / f"{_slug(spec.name)}.log")
            )
            calls[spec.name] = _peer_call(peer_transcribe, peer.port)
            servers.pids[spec.name] = peer.pid
            started[spec.name] = peer.startup_seconds
        for call in calls.values():
            await call(warm_up)
        sides = list(calls)
        for clients in plan.clients:
            for repeat in range(plan.repeats):
                for side in side_order(sides, repeat):
                    summary, samples = await measured_run(
                        side, clips, clients, calls[side], servers
                    )
                    level = _level(levels, clients, side)
                    level["runs"].append(summary)
                    level["latencies"].extend(s.seconds for s in samples if s.error is None)
                    level.setdefault("pairs", []).extend(
                        (clips[s.index], s.result) for s in samples if s.error is None
                    )
                    progress(describe_run("stt", side, clients, repeat, summary))
    report_levels = {
        clients: {side: stt_level(level) for side, level in by_side.items()}
        for clients, by_side in levels.items()
    }
    return {
        "clips": [
            {"utt_id": c.utt_id, "seconds": round(c.seconds, 2), "text": c.text} for c in clips
        ],
        "warm_up_clip": warm_up.utt_id,
        "model_dir_name": model_dir.name,
        "ustad_stt_settings": stt.model_dump(mode="json"),
        "peers": {spec.name: list(spec.args) for spec in peers},
        "startup_seconds": {k: round(v, 2) for k, v in started.items()},
        "levels": report_levels,
    }


async def run_tts(plan: Plan, models_dir: Path, peers_python: Path, logs: Path) -> dict[str, Any]:
    """Both TTS workloads for ustad (a fresh server per run) and wyoming-piper."""
    sentences = english_sentences()
    if WARM_UP_SENTENCE in sentences:
        raise ValueError("the warm-up sentence must not be in the workload")
    workloads = {
        "zipf": (zipf_requests(sentences, plan.requests, ZIPF_EXPONENT, plan.seed), plan.clients),
        "distinct": (distinct_requests(sentences, plan.distinct, plan.seed), (1,)),
    }
    # The same Zipf requests to an ustad restarted on the disk audio store of an earlier
    # server that answered them: a long-running tutor's state. The peer keeps nothing,
    # so for it this is the Zipf workload again.
    workloads["zipf_restarted"] = workloads["zipf"]
    voice = piper_voice_path(Settings(_env_file=None).tts.english_voice)
    settings = {**BENCH_DEFAULTS, **USTAD_ENV}
    results: dict[str, Any] = {}
    servers = Servers()
    async with PeerProcess(
        piper_peer(PEER_TTS, voice), peers_python, log_path=logs / "wyoming-piper.log"
    ) as piper:
        servers.pids[PEER_TTS] = piper.pid
        await peer_speak(piper.port, WARM_UP_SENTENCE)
        startup = {PEER_TTS: round(piper.startup_seconds, 2)}
        for name, (items, client_levels) in workloads.items():
            levels: dict[str, Any] = {}
            for clients in client_levels:
                for repeat in range(plan.repeats):
                    for side in side_order([USTAD, PEER_TTS], repeat):
                        if side == USTAD:
                            log = logs / f"ustad-tts-{name}-{clients}-{repeat + 1}.log"
                            with tempfile.TemporaryDirectory(prefix="ustad-store-") as store:
                                env = dict(settings)
                                if name == "zipf_restarted":
                                    env["USTAD_AUDIO_STORE__DIR"] = store
                                    await _fresh_ustad_run(
                                        env, models_dir, items, clients, servers, log, startup
                                    )
                                summary, samples = await _fresh_ustad_run(
                                    env, models_dir, items, clients, servers, log, startup
                                )
                        else:
                            call = _peer_call(peer_speak, piper.port)
                            summary, samples = await measured_run(
                                side, items, clients, call, servers
                            )
                        answered = [s.result for s in samples if s.error is None]
                        summary["audio_seconds_mean"] = (
                            round(statistics.fmean(answered), 3) if answered else None
                        )
                        level = _level(levels, clients, side)
                        level["runs"].append(summary)
                        level["latencies"].extend(s.seconds for s in samples if s.error is None)
                        progress(describe_run(f"tts {name}", side, clients, repeat, summary))
            results[name] = {
                "requests": len(items),
                "distinct_sentences": len(set(items)),
                "top_sentences": top_sentences(items, 5),
                "levels": {
                    clients: {side: tts_level(level) for side, level in by_side.items()}
                    for clients, by_side in levels.items()
                },
            }
    return {
        "voice_file": voice.name,
        "ustad_response_format": TTS_FORMAT,
        "zipf_exponent": ZIPF_EXPONENT,
        "startup_seconds": startup,
        "workloads": results,
    }


async def _fresh_ustad_run(
    settings: Mapping[str, str],
    models_dir: Path,
    items: Sequence[str],
    clients: int,
    servers: Servers,
    log: Path,
    startup: dict[str, float],
) -> tuple[dict[str, Any], list[Sample[Any]]]:
    """A new ustad (empty caches and audio store), warmed up once, then one measured run."""
    server = ServerProcess(ServerConfig(USTAD, dict(settings)), models_dir=models_dir, log_path=log)
    async with server, _http_client(clients) as http:
        startup[USTAD] = round(server.startup_seconds, 2)
        servers.pids[USTAD] = server.pid
        try:
            await ustad_speak(http, server.http_url, WARM_UP_SENTENCE)
            before = await fetch_server_state(server.http_url)
            summary, samples = await measured_run(
                USTAD,
                items,
                clients,
                lambda text: ustad_speak(http, server.http_url, text),
                servers,
            )
            after = await fetch_server_state(server.http_url)
        finally:
            del servers.pids[USTAD]
    summary["engine_calls"] = engine_calls_delta(before, after)
    return summary, samples


def _http_client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=REQUEST_TIMEOUT,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def _peer_call(
    function: Callable[[int, Any], Awaitable[Any]], port: int
) -> Callable[[Any], Awaitable[Any]]:
    return lambda item: function(port, item)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")
