"""ustad's speech endpoints against the Wyoming peers, on the same model files and clips.

* **STT**: ``POST /v1/audio/transcriptions`` (``language=en``: Whisper tiny.en int8,
  the packaged English recogniser) against wyoming-faster-whisper pointed at that
  same model directory, with the same compute type, CPU threads per call and beam
  size (1; with ``--peer-default-beam`` also the peer's own default, 5 on x86).
  Every request is one speechocean762 learner clip: ustad gets the WAV file, the
  peer the same 16 kHz 16-bit samples as Wyoming audio chunks, so both decode the
  same audio. Per side: latency p50/p95, clips per second, and the WER of the
  transcripts against the sentences the clips read (so a side cannot win by
  decoding less well).
* **TTS**: ``POST /v1/audio/speech`` (voice ``en``, ``response_format=wav``) against
  wyoming-piper speaking the same Piper voice file. Two workloads: phrase-bank
  sentences drawn Zipf(1.1) (repeats, as learners produce them), and all-distinct
  sentences at one client (the engines alone). ustad caches what it synthesised, so
  every ustad TTS run gets a fresh server: each run starts cold.

Each (workload, clients) level runs ``--repeats`` times, the sides in rotated order
so a slow stretch of a shared machine does not always hit the same one. Throughput is
the median over the repeats; latency percentiles pool the repeats' requests. One
warm-up request per server is not counted. Every run records the CPU the server
under test used per request and the CPU the rest of the machine used meanwhile
(``other_cpu_percent``, 100 = one core): a run with a high figure measured the
neighbours too.

Usage (after ``scripts/install-peers.sh``; ``make bench-peers`` does both)::

    .venv/bin/python benchmarks/peers.py [--clips 40] [--requests 120] [--clients 1,8]
        [--repeats 3] [--results DIR] [--quick]

Writes ``DIR/results.json`` (default ``results/peers-<timestamp>``) and prints tables.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx
from clip_wer import DATA, corpus_wer, load_index
from peers_measure import (
    CpuWindow,
    Sample,
    combine_repeats,
    distinct_requests,
    ratio,
    run_clients,
    run_summary,
    sample_items,
    side_order,
    zipf_requests,
)
from peers_servers import HOST, PeerProcess, piper_peer, whisper_peer
from peers_wyoming import synthesize, transcribe

from ustad.bench.report import engine_calls_delta, fetch_server_state, machine, write_results
from ustad.bench.server import (
    BENCH_DEFAULTS,
    ServerConfig,
    ServerProcess,
    machine_busy_seconds,
    sample_process,
)
from ustad.settings import Settings
from ustad.speech.model_paths import english_whisper_dir, piper_voice_path
from ustad.speech.types import Transcript
from ustad.speech.phrasebank import PhraseBank

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
PEERS_VENV: Final = REPO_ROOT / "var" / "peers-venv"
SCHEMA: Final = "ustad-peers/1"
USTAD: Final = "ustad"
PEER_STT: Final = "wyoming-faster-whisper"
PEER_STT_DEFAULT_BEAM: Final = "wyoming-faster-whisper (default beam)"
PEER_TTS: Final = "wyoming-piper"
PEER_DEFAULT_BEAM: Final = 5
"""wyoming-faster-whisper's ``--beam-size 0`` (auto) on x86."""
USTAD_ENV: Final = {
    # Fixed learn-cycle replies are synthesised before a server is ready; REST speech
    # never uses them, so they would only make every fresh TTS server slower to start.
    "USTAD_RUNTIME__PREGENERATE": "false",
}
WARM_UP_SENTENCE: Final = "This sentence only warms the voice up."
TTS_FORMAT: Final = "wav"
ZIPF_EXPONENT: Final = 1.1
REQUEST_TIMEOUT: Final = 120.0
PEER_PACKAGES: Final = (
    "wyoming-faster-whisper",
    "wyoming-piper",
    "wyoming",
    "faster-whisper",
    "ctranslate2",
    "piper-tts",
    "onnxruntime",
)


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Clip:
    """One learner recording, as a WAV file and as the PCM inside it."""

    utt_id: str
    text: str
    """The sentence the speaker was asked to read."""
    wav: bytes
    pcm: bytes
    seconds: float


def load_clip(row: Mapping[str, str]) -> Clip:
    """A speechocean762 clip; it must be 16 kHz mono 16-bit WAV (the corpus format)."""
    data = (DATA / row["file"]).read_bytes()
    with wave.open(io.BytesIO(data)) as reader:
        shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
        if shape != (16_000, 1, 2):
            raise ValueError(f"{row['file']}: expected 16 kHz mono 16-bit WAV, got {shape}")
        frames = reader.getnframes()
        pcm = reader.readframes(frames)
    return Clip(row["utt_id"], row["text"], data, pcm, frames / 16_000)


def load_clips(count: int, seed: int) -> tuple[list[Clip], Clip]:
    """``count`` clips drawn with ``seed``, and one more for the warm-up requests."""
    rows = sample_items(load_index(), count + 1, seed)
    clips = [load_clip(row) for row in rows]
    return clips[1:], clips[0]


def english_sentences() -> list[str]:
    """The phrase bank's English sentences (the TTS workload's vocabulary)."""
    return [phrase.english for phrase in PhraseBank.load()]


def peer_versions(python: Path) -> dict[str, str | None]:
    """Installed versions of the peers and their engines in the peers' venv."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({n: v(n) for n in sys.argv[1:]}))\n"
    )
    out = subprocess.run(
        [str(python), "-c", script, *PEER_PACKAGES], capture_output=True, text=True, check=True
    )
    versions: dict[str, str | None] = json.loads(out.stdout)
    return versions


# ------------------------------------------------------------------ requests


async def ustad_transcribe(http: httpx.AsyncClient, url: str, clip: Clip) -> str:
    """``/v1/audio/transcriptions`` with ``language=en`` (the English recogniser)."""
    response = await http.post(
        f"{url}/v1/audio/transcriptions",
        files={"file": (f"{clip.utt_id}.wav", clip.wav, "audio/wav")},
        data={"model": "whisper-1", "language": "en", "response_format": "json"},
    )
    response.raise_for_status()
    return str(response.json()["text"])


async def peer_transcribe(port: int, clip: Clip) -> str:
    """The same samples to a Wyoming recogniser."""
    return await transcribe(HOST, port, clip.pcm, rate=16_000, language="en")


async def ustad_speak(http: httpx.AsyncClient, url: str, text: str) -> float:
    """``/v1/audio/speech`` in the English voice as WAV; seconds of audio received."""
    response = await http.post(
        f"{url}/v1/audio/speech",
        json={"model": "tts-1", "input": text, "voice": "en", "response_format": TTS_FORMAT},
    )
    response.raise_for_status()
    with wave.open(io.BytesIO(response.content)) as reader:
        return reader.getnframes() / reader.getframerate()


async def peer_speak(port: int, text: str) -> float:
    """The same sentence to a Wyoming synthesiser; seconds of audio received."""
    return (await synthesize(HOST, port, text)).seconds


# ------------------------------------------------------------------ one run


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


# ------------------------------------------------------------------ STT


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
        clients: {side: _stt_level(level) for side, level in by_side.items()}
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


def _stt_level(level: Mapping[str, Any]) -> dict[str, Any]:
    combined = combine_repeats(level["runs"], level["latencies"])
    pairs = [
        (clip.text, Transcript(text=text, language="en", language_probability=1.0, duration=0.0))
        for clip, text in level.get("pairs", [])
    ]
    combined["wer"] = round(corpus_wer(pairs), 4) if pairs else None
    # What each clip came back as the first time (later repeats may differ: Whisper's
    # temperature fallback samples).
    first: dict[str, str] = {}
    for clip, text in level.get("pairs", []):
        first.setdefault(clip.utt_id, text.strip())
    combined["transcripts"] = first
    combined.update(_cpu_figures(level["runs"]))
    combined["runs"] = level["runs"]
    return combined


def _cpu_figures(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    per_request = [r["server_cpu_ms_per_request"] for r in runs if r["server_cpu_ms_per_request"]]
    other = [r["other_cpu_percent"] for r in runs if r["other_cpu_percent"] is not None]
    return {
        "server_cpu_ms_per_request": round(statistics.median(per_request), 1)
        if per_request
        else None,
        "other_cpu_percent_max": max(other) if other else None,
    }


# ------------------------------------------------------------------ TTS


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
                "top_sentences": _top(items, 5),
                "levels": {
                    clients: {side: _tts_level(level) for side, level in by_side.items()}
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


def _tts_level(level: Mapping[str, Any]) -> dict[str, Any]:
    combined = combine_repeats(level["runs"], level["latencies"])
    audio = [r["audio_seconds_mean"] for r in level["runs"] if r["audio_seconds_mean"]]
    combined["audio_seconds_mean"] = round(statistics.median(audio), 3) if audio else None
    synth = [r["engine_calls"].get("tts_piper", 0) for r in level["runs"] if "engine_calls" in r]
    combined["synth_calls_per_run"] = synth or None
    combined.update(_cpu_figures(level["runs"]))
    combined["runs"] = level["runs"]
    return combined


def _top(items: Sequence[str], count: int) -> list[dict[str, Any]]:
    tally: dict[str, int] = {}
    for item in items:
        tally[item] = tally.get(item, 0) + 1
    ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))[:count]
    return [{"text": text, "requests": n} for text, n in ranked]


# ------------------------------------------------------------------ helpers


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


# ------------------------------------------------------------------ report


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The issue's three targets, measured against the primary (beam 1) peer."""
    out: list[dict[str, Any]] = []
    stt = results["stt"]["levels"]
    one = stt.get("1", {})
    if USTAD in one and PEER_STT in one:
        mine, theirs = one[USTAD]["latency_ms"]["p50"], one[PEER_STT]["latency_ms"]["p50"]
        out.append(
            {
                "target": "STT latency at 1 client no worse than the peer (p50)",
                "ustad": mine,
                "peer": theirs,
                "ratio_peer_over_ustad": ratio(theirs, mine),
                "met": mine is not None and theirs is not None and mine <= theirs,
            }
        )
    eight = stt.get("8", {})
    if USTAD in eight and PEER_STT in eight:
        mine, theirs = (eight[s]["throughput_per_second"] for s in (USTAD, PEER_STT))
        out.append(
            _throughput_target("STT throughput at 8 clients >= 1.5x the peer", mine, theirs, 1.5)
        )
    workloads = results["tts"]["workloads"]
    for name, state in (("zipf", "cold ustad"), ("zipf_restarted", "ustad restarted warm")):
        for clients, by_side in workloads.get(name, {}).get("levels", {}).items():
            if USTAD in by_side and PEER_TTS in by_side:
                mine, theirs = (by_side[s]["throughput_per_second"] for s in (USTAD, PEER_TTS))
                label = (
                    f"TTS throughput, repeated sentences, {state}, {clients} client(s) "
                    ">= 5x the peer"
                )
                out.append(_throughput_target(label, mine, theirs, 5.0))
    return out


def _throughput_target(
    label: str, mine: float | None, theirs: float | None, goal: float
) -> dict[str, Any]:
    factor = ratio(mine, theirs)
    return {
        "target": label,
        "ustad": mine,
        "peer": theirs,
        "ratio_ustad_over_peer": factor,
        "met": factor is not None and factor >= goal,
    }


def _rows(
    levels: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for clients, by_side in sorted(levels.items(), key=lambda kv: int(kv[0])):
        for side, figures in by_side.items():
            yield clients, side, figures


def format_tables(results: Mapping[str, Any]) -> str:
    """Markdown tables of the STT and TTS figures and the targets (what was run)."""
    lines: list[str] = []
    if "stt" in results:
        lines += [
            "STT: /v1/audio/transcriptions vs wyoming-faster-whisper, "
            f"{len(results['stt']['clips'])} clips, {results['plan']['repeats']} repeat(s)",
            "",
            "| clients | side | p50 ms | p95 ms | clips/s | WER | server CPU ms/clip "
            "| other CPU % (max) | errors |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for clients, side, f in _rows(results["stt"]["levels"]):
            lines.append(
                f"| {clients} | {side} | {f['latency_ms']['p50']} | {f['latency_ms']['p95']} | "
                f"{f['throughput_per_second']} | {_pct(f['wer'])} | "
                f"{f['server_cpu_ms_per_request']} | {f['other_cpu_percent_max']} | "
                f"{f['errors']} |"
            )
    for name, workload in results.get("tts", {}).get("workloads", {}).items():
        lines += [
            "",
            f"TTS {name}: /v1/audio/speech ({results['tts']['ustad_response_format']}) vs "
            f"wyoming-piper, {workload['requests']} requests, "
            f"{workload['distinct_sentences']} distinct sentences, "
            f"{results['plan']['repeats']} repeat(s)",
            "",
            "| clients | side | p50 ms | p95 ms | requests/s | audio s/request | synth calls "
            "| server CPU ms/request | other CPU % (max) | errors |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for clients, side, f in _rows(workload["levels"]):
            synth = f.get("synth_calls_per_run")
            lines.append(
                f"| {clients} | {side} | {f['latency_ms']['p50']} | {f['latency_ms']['p95']} | "
                f"{f['throughput_per_second']} | {f['audio_seconds_mean']} | "
                f"{'/'.join(map(str, synth)) if synth else '-'} | "
                f"{f['server_cpu_ms_per_request']} | {f['other_cpu_percent_max']} | "
                f"{f['errors']} |"
            )
    if results.get("targets"):
        lines += ["", "| target | ustad | peer | ratio | met |", "|---|---|---|---|---|"]
        for t in results["targets"]:
            factor = t.get("ratio_ustad_over_peer", t.get("ratio_peer_over_ustad"))
            met = "yes" if t["met"] else "no"
            lines.append(f"| {t['target']} | {t['ustad']} | {t['peer']} | {factor} | {met} |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


# ------------------------------------------------------------------ main


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--clips", type=int, default=40, help="learner clips per STT run")
    p.add_argument("--requests", type=int, default=120, help="requests per Zipf TTS run")
    p.add_argument("--distinct", type=int, default=30, help="requests of the all-distinct TTS run")
    p.add_argument("--clients", default="1,8", help="concurrent clients, comma-separated")
    p.add_argument("--repeats", type=int, default=3, help="runs per level (median throughput)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    p.add_argument(
        "--peer-default-beam",
        action="store_true",
        help="also run wyoming-faster-whisper with its own default beam (5)",
    )
    p.add_argument("--only", choices=("stt", "tts"), help="run one half only")
    p.add_argument("--results", type=Path, help="results folder (default results/peers-<time>)")
    p.add_argument("--peers-venv", type=Path, default=PEERS_VENV, help="the peers' virtualenv")
    p.add_argument(
        "--models-dir",
        type=Path,
        default=REPO_ROOT / "var" / "models",
        help="where ustad assembles Whisper base once (shared by the started servers)",
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes for a smoke run (6 clips, 16 requests)"
    )
    return p


def make_plan(args: argparse.Namespace) -> Plan:
    """The plan from the options (``--quick`` overrides the sizes)."""
    try:
        clients = tuple(int(c) for c in args.clients.split(","))
    except ValueError as error:
        raise SystemExit(f"--clients must be comma-separated integers: {args.clients!r}") from error
    if args.quick:
        args.clips, args.requests, args.distinct, args.repeats = 6, 16, 6, 1
    if min(clients) < 1 or min(args.clips, args.requests, args.distinct, args.repeats) < 1:
        raise SystemExit("--clients, --clips, --requests, --distinct and --repeats must be >= 1")
    return Plan(
        clips=args.clips,
        requests=args.requests,
        distinct=args.distinct,
        clients=clients,
        repeats=args.repeats,
        seed=args.seed,
        peer_default_beam=args.peer_default_beam,
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both halves; the results dictionary."""
    plan = make_plan(args)
    # Ctrl-C or a plain kill cancels the run, so every started server is stopped on the
    # way out instead of being left running.
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    python = args.peers_venv / "bin" / "python"
    if not python.is_file():
        raise SystemExit(f"no peers virtualenv at {args.peers_venv}: run scripts/install-peers.sh")
    stamp = datetime.now(UTC)
    directory = args.results or REPO_ROOT / "results" / f"peers-{stamp:%Y%m%d-%H%M%S}"
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "created": stamp.isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": machine(),
        "plan": plan.__dict__ | {"clients": list(plan.clients)},
        "peer_versions": peer_versions(python),
        "ustad_server_env": {**BENCH_DEFAULTS, **USTAD_ENV},
    }
    models_dir = args.models_dir.resolve()
    if args.only != "tts":
        results["stt"] = await run_stt(plan, models_dir, python, logs)
    if args.only != "stt":
        results["tts"] = await run_tts(plan, models_dir, python, logs)
    if "stt" in results and "tts" in results:
        results["targets"] = targets(results)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results(results, directory)
    progress(f"results: {path}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    try:
        results = asyncio.run(run(args))
    except asyncio.CancelledError:
        print("peers benchmark interrupted; servers stopped", file=sys.stderr)
        return 130
    print(format_tables(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
