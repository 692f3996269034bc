"""Cross-session STT batching against single calls, on real clips, in one run.

A burst of B utterances arrives at once (B = 2, 4, 8: learners who finished
speaking together) and each strategy transcribes it through the service's own
runtime pieces (``EngineExecutor``, ``SttBatcher``, ``WhisperTranscriber``):

* ``single 2t x1``: one call at a time, 2 CTranslate2 threads (the reference);
* ``single 2t x2``: two calls at once, 2 threads each (the server's default set-up:
  2 executor workers, ``cpu_threads=2``);
* ``single 1t x2``: two calls at once, 1 thread each;
* ``batch B 2t x1``: one batched call of all B, 2 threads;
* ``batch B/2 2t x2``: two batched calls of B/2 at once, 2 threads each: the server's
  set-up with ``batch_max_size`` = B/2 (B >= 4);
* ``batch B/2 1t x2``: the same with 1 thread each (B >= 4).

Scenarios: ``english`` is the repeat step (tiny.en, ``language="en"``, word timings,
short-clip window) on speechocean762 learner clips; ``urdu`` is the Urdu step's
transcription (Whisper base, ``language="ur"``, short-clip window) on the two real
Common Voice Urdu clips (a burst repeats them, as learners saying the same popular
sentence do); ``english-full`` is the English one in Whisper's full 30 s window
(``short_clip_window`` off, as in baseline mode), where the encoder dominates.

For each (scenario, B, strategy) it reports medians over ``--repeats`` bursts (each
repeat draws new clips; every strategy gets the same clips, in a rotated order):
throughput (clips per second of wall time), per-clip latency (burst start to that
clip's transcript: for a batch, the batch time), process CPU per clip (all threads;
steadier than wall time on a shared machine), requests re-run on the single path,
how many transcripts are identical to the reference's (text; and whole transcript,
word timings included), the WER of both against the prompted sentences (English),
and the CPU that other processes used meanwhile (100 % = one core).

Before the bursts, ``--check`` clips go through ``transcribe_batch`` in batches of the
largest B and every clip the batch settled is compared with a single call on the same
clip (the bursts' comparison also counts re-run clips, whose sampled retries differ
from run to run).

A burst is batching's best case: requests that arrive spread out make smaller
batches and wait up to ``batch_max_wait_ms`` for company.

Usage: ``.venv/bin/python benchmarks/stt_batching.py [--repeats 5] [--batch-sizes
2,4,8] [--scenarios english,urdu,english-full] [--seed 0] [--check 96] [--output FILE]``.
Writes ``results/stt-batching-<time>.json`` (``results/`` is not committed) and
assembles Whisper base once under ``var/models``, as the service does.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clip_wer import DATA, SHARED_DATA, corpus_wer, load_index

from ustad.bench.report import machine
from ustad.bench.server import machine_busy_seconds
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.stt_batcher import SttBatcher
from ustad.speech.audio import decode_audio
from ustad.speech.model_paths import english_whisper_dir, multilingual_whisper_dir
from ustad.speech.types import Audio, Transcript
from ustad.speech.whisper_batch import NeedsSingle, WhisperBatchTranscriber, transcribe_batch
from ustad.speech.whisper_stt import WhisperTranscriber

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "single 2t x1"


@dataclass(frozen=True)
class Clip:
    name: str
    audio: Audio
    text: str
    """The prompted sentence (learner clips) or the Common Voice sentence."""


@dataclass(frozen=True)
class Scenario:
    name: str
    model: str
    language: str
    word_timestamps: bool
    short_clip_window: bool
    pool: tuple[Clip, ...]

    def draw(self, size: int, repeat: int, seed: int) -> list[Clip]:
        """The clips of one burst: a seeded sample, or the pool cycled when it is small."""
        if len(self.pool) >= 2 * size:
            rng = random.Random(f"{seed}-{self.name}-{size}-{repeat}")
            return rng.sample(list(self.pool), size)
        return [self.pool[(i + repeat) % len(self.pool)] for i in range(size)]


@dataclass(frozen=True)
class Strategy:
    name: str
    threads: int
    workers: int
    batch: int
    """Largest batch per call (1: single calls)."""


@dataclass
class Burst:
    strategy: str
    repeat: int
    clips: list[str]
    wall: float
    latencies: list[float]
    cpu: float
    other_cpu: float
    rerun: int
    transcripts: list[Transcript] = field(repr=False)


class ReasonCounter(logging.Handler):
    """Why batched items went on to the full window or to the single path (debug log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        for arg in record.args or ():
            if isinstance(arg, NeedsSingle):
                self.reasons[f"single: {arg.reason.split(':')[0]}"] += 1
        if "short window rejected" in str(record.msg) and isinstance(record.args, tuple):
            self.reasons[f"short -> full: {record.args[1]}"] += 1


def strategies(size: int) -> list[Strategy]:
    out = [
        Strategy(REFERENCE, 2, 1, 1),
        Strategy("single 2t x2", 2, 2, 1),
        Strategy("single 1t x2", 1, 2, 1),
        Strategy(f"batch {size} 2t x1", 2, 1, size),
    ]
    if size >= 4:
        out.append(Strategy(f"batch {size // 2} 2t x2", 2, 2, size // 2))
        out.append(Strategy(f"batch {size // 2} 1t x2", 1, 2, size // 2))
    return out


def learner_pool() -> tuple[Clip, ...]:
    return tuple(
        Clip(row["utt_id"], decode_audio((DATA / row["file"]).read_bytes()), row["text"])
        for row in load_index()
    )


def urdu_pool() -> tuple[Clip, ...]:
    root = SHARED_DATA / "urdu"
    with (root / "index.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return tuple(
        Clip(row["file"], decode_audio((root / row["file"]).read_bytes()), row["text"])
        for row in rows
    )


def scenarios(names: Sequence[str]) -> list[Scenario]:
    learners = learner_pool() if {"english", "english-full"} & set(names) else ()
    made = {
        "english": lambda: Scenario("english", "tiny.en", "en", True, True, learners),
        "english-full": lambda: Scenario("english-full", "tiny.en", "en", True, False, learners),
        "urdu": lambda: Scenario("urdu", "base", "ur", False, True, urdu_pool()),
    }
    return [made[name]() for name in names]


def load_engine(scenario: Scenario, threads: int, workers: int) -> WhisperBatchTranscriber:
    if scenario.model == "tiny.en":
        model_dir = english_whisper_dir("packaged")
    else:
        model_dir = multilingual_whisper_dir("packaged", REPO_ROOT / "var" / "models")
    return WhisperBatchTranscriber(
        WhisperTranscriber(
            model_dir,
            name=f"{scenario.model} {threads}t x{workers}",
            cpu_threads=threads,
            num_workers=workers,
            short_clip_window=scenario.short_clip_window,
        )
    )


async def run_burst(
    scenario: Scenario,
    engine: WhisperBatchTranscriber,
    strategy: Strategy,
    clips: Sequence[Clip],
    repeat: int,
) -> Burst:
    executor = EngineExecutor(strategy.workers)
    # The size trigger dispatches every batch of a burst; the wait never expires.
    batcher = SttBatcher(executor, max_batch_size=strategy.batch, max_wait=10.0)
    started, cpu, busy = time.perf_counter(), time.process_time(), machine_busy_seconds()

    async def one(clip: Clip) -> tuple[Transcript, float]:
        transcript = await batcher.transcribe(
            engine,
            clip.audio,
            language=scenario.language,
            word_timestamps=scenario.word_timestamps,
        )
        return transcript, time.perf_counter() - started

    done = await asyncio.gather(*(one(clip) for clip in clips))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    busy = machine_busy_seconds() - busy
    executor.shutdown()
    return Burst(
        strategy=strategy.name,
        repeat=repeat,
        clips=[clip.name for clip in clips],
        wall=wall,
        latencies=[latency for _, latency in done],
        cpu=cpu,
        other_cpu=max(0.0, busy - cpu),
        rerun=batcher.stats().rerun_singly,
        transcripts=[transcript for transcript, _ in done],
    )


def run_scenario(
    scenario: Scenario,
    sizes: Sequence[int],
    repeats: int,
    seed: int,
    check: int,
    reasons: ReasonCounter,
) -> dict[str, Any]:
    """Every strategy on the same bursts; returns the summary rows and raw bursts."""
    needed = {(s.threads, s.workers) for size in sizes for s in strategies(size)}
    engines = {key: load_engine(scenario, *key) for key in sorted(needed)}
    warm = scenario.pool[:2]
    for engine in engines.values():  # first calls allocate; keep them out of the timings
        for clip in warm:
            engine.transcribe(
                clip.audio, language=scenario.language, word_timestamps=scenario.word_timestamps
            )
        engine.transcribe_batch(
            [c.audio for c in warm],
            language=scenario.language,
            task="transcribe",
            word_timestamps=scenario.word_timestamps,
        )
    rows: list[dict[str, Any]] = []
    raw: list[dict[str, Any]] = []
    same = equivalence(scenario, engines[(2, 1)], check, max(sizes))
    for size in sizes:
        plan = strategies(size)
        bursts: dict[str, list[Burst]] = {s.name: [] for s in plan}
        reasons_by: dict[str, Counter[str]] = {s.name: Counter() for s in plan}
        for repeat in range(repeats):
            clips = scenario.draw(size, repeat, seed)
            shift = repeat % len(plan)
            for strategy in plan[shift:] + plan[:shift]:
                reasons.reasons.clear()
                engine = engines[(strategy.threads, strategy.workers)]
                burst = asyncio.run(run_burst(scenario, engine, strategy, clips, repeat))
                bursts[strategy.name].append(burst)
                reasons_by[strategy.name].update(reasons.reasons)
            print(f"  {scenario.name} B={size}: repeat {repeat + 1}/{repeats} done", flush=True)
        pool = {clip.name: clip for clip in scenario.pool}
        for strategy in plan:
            rows.append(
                summarise(
                    scenario,
                    size,
                    strategy,
                    bursts[strategy.name],
                    bursts[REFERENCE],
                    pool,
                    reasons_by[strategy.name],
                )
            )
            raw.extend(
                {
                    **{k: v for k, v in asdict(b).items() if k != "transcripts"},
                    "size": size,
                    "texts": [t.text for t in b.transcripts],
                }
                for b in bursts[strategy.name]
            )
    return {
        "scenario": scenario_info(scenario),
        "equivalence": same,
        "rows": rows,
        "bursts": raw,
    }


def equivalence(
    scenario: Scenario, engine: WhisperBatchTranscriber, count: int, size: int
) -> dict[str, Any]:
    """Batches of ``size`` over the first ``count`` clips against single calls, clip by clip.

    Unlike the bursts (whose re-run clips take sampled retries, which differ from run to
    run), this compares only what the batch settled itself, with the single path's
    result for the same clip: the two should be identical.
    """
    clips = list(scenario.pool[:count])
    settled = same_text = same_all = 0
    reasons: Counter[str] = Counter()
    for start in range(0, len(clips), size):
        chunk = clips[start : start + size]
        outcomes = transcribe_batch(
            engine.transcriber,
            [c.audio for c in chunk],
            language=scenario.language,
            word_timestamps=scenario.word_timestamps,
        )
        for clip, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, NeedsSingle):
                reasons[outcome.reason.split(":")[0]] += 1
                continue
            single = engine.transcribe(
                clip.audio, language=scenario.language, word_timestamps=scenario.word_timestamps
            )
            settled += 1
            same_text += outcome.text == single.text
            same_all += outcome == single
    print(
        f"  {scenario.name}: batches of {size} settled {settled} of {len(clips)} clips; "
        f"identical to the single path: text {same_text}, whole transcript {same_all}",
        flush=True,
    )
    return {
        "clips": len(clips),
        "batch": size,
        "settled": settled,
        "identical_text": same_text,
        "identical_transcript": same_all,
        "needs_single": dict(reasons),
    }


def summarise(
    scenario: Scenario,
    size: int,
    strategy: Strategy,
    bursts: Sequence[Burst],
    reference: Sequence[Burst],
    pool: dict[str, Clip],
    reasons: Counter[str],
) -> dict[str, Any]:
    median = statistics.median
    same_text = same_all = total = 0
    pairs: list[tuple[str, Transcript]] = []
    reference_pairs: list[tuple[str, Transcript]] = []
    for burst, ref in zip(bursts, reference, strict=True):
        for name, mine, theirs in zip(burst.clips, burst.transcripts, ref.transcripts, strict=True):
            total += 1
            same_text += mine.text == theirs.text
            same_all += mine == theirs
            pairs.append((pool[name].text, mine))
            reference_pairs.append((pool[name].text, theirs))
    english = scenario.language == "en"
    return {
        "scenario": scenario.name,
        "batch": size,
        "strategy": strategy.name,
        "threads": strategy.threads,
        "workers": strategy.workers,
        "max_batch": strategy.batch,
        "repeats": len(bursts),
        "clips_per_second": median(size / b.wall for b in bursts),
        "latency_mean_ms": median(1000 * statistics.mean(b.latencies) for b in bursts),
        "latency_max_ms": median(1000 * max(b.latencies) for b in bursts),
        "cpu_ms_per_clip": median(1000 * b.cpu / size for b in bursts),
        "other_cpu_percent": median(100 * b.other_cpu / b.wall for b in bursts),
        "rerun_singly": sum(b.rerun for b in bursts),
        "clips": total,
        "identical_text": same_text,
        "identical_transcript": same_all,
        "wer": corpus_wer(pairs) if english else None,
        "reference_wer": corpus_wer(reference_pairs) if english else None,
        "reasons": dict(reasons),
    }


def scenario_info(scenario: Scenario) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "model": scenario.model,
        "language": scenario.language,
        "word_timestamps": scenario.word_timestamps,
        "short_clip_window": scenario.short_clip_window,
        "pool": len(scenario.pool),
        "pool_seconds_median": statistics.median(c.audio.duration for c in scenario.pool),
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| scenario | B | strategy | clips/s | x ref | latency mean / max ms | CPU ms/clip "
        "| re-run | identical text / whole | WER ref -> this | other CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reference = {(r["scenario"], r["batch"]): r for r in rows if r["strategy"] == REFERENCE}
    for r in rows:
        ref = reference[(r["scenario"], r["batch"])]
        wer = (
            f"{100 * r['reference_wer']:.1f} -> {100 * r['wer']:.1f} %"
            if r["wer"] is not None
            else "-"
        )
        lines.append(
            f"| {r['scenario']} | {r['batch']} | {r['strategy']} | {r['clips_per_second']:.2f} "
            f"| {r['clips_per_second'] / ref['clips_per_second']:.2f} "
            f"| {r['latency_mean_ms']:.0f} / {r['latency_max_ms']:.0f} "
            f"| {r['cpu_ms_per_clip']:.0f} | {r['rerun_singly']} "
            f"| {r['identical_text']} / {r['identical_transcript']} of {r['clips']} "
            f"| {wer} | {r['other_cpu_percent']:.0f} % |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="bursts per batch size")
    parser.add_argument("--batch-sizes", default="2,4,8", help="comma-separated burst sizes")
    parser.add_argument("--scenarios", default="english,urdu,english-full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--check", type=int, default=96, help="clips compared one by one with the single path"
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args()
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    names = [s.strip() for s in args.scenarios.split(",")]
    if any(size < 2 for size in sizes):
        parser.error("batch sizes must be at least 2")
    unknown = set(names) - {"english", "urdu", "english-full"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    reasons = ReasonCounter()
    batch_log = logging.getLogger("ustad.speech.whisper_batch")
    batch_log.addHandler(reasons)
    batch_log.setLevel(logging.DEBUG)
    started = time.time()
    results: dict[str, Any] = {
        "schema": "ustad-stt-batching/1",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
        "machine": machine(),
        "args": {
            "repeats": args.repeats,
            "batch_sizes": sizes,
            "seed": args.seed,
            "check": args.check,
        },
        "load_average_before": list(os.getloadavg()),
        "scenarios": [],
    }
    for scenario in scenarios(names):
        print(f"{scenario.name}: {len(scenario.pool)} clips", flush=True)
        results["scenarios"].append(
            run_scenario(scenario, sizes, args.repeats, args.seed, args.check, reasons)
        )
    results["load_average_after"] = list(os.getloadavg())
    results["seconds"] = round(time.time() - started, 1)
    rows = [row for s in results["scenarios"] for row in s["rows"]]
    print()
    print(table(rows))
    print("\nbatch-settled clips against single calls:")
    for s in results["scenarios"]:
        e = s["equivalence"]
        print(
            f"  {s['scenario']['name']}: {e['settled']} of {e['clips']} settled in batches of "
            f"{e['batch']}, identical text {e['identical_text']}, whole transcript "
            f"{e['identical_transcript']}; single path needed: {e['needs_single']}"
        )
    print("\nwhy batched items were decoded again:")
    for row in rows:
        if row["reasons"]:
            reasons_text = ", ".join(f"{k} {v}" for k, v in sorted(row["reasons"].items()))
            print(f"  {row['scenario']} B={row['batch']} {row['strategy']}: {reasons_text}")
    output = (
        args.output or REPO_ROOT / "results" / f"stt-batching-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
