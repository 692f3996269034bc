"""What each engine call costs, and how the engine pool's shape changes throughput.

Two measurements on real clips (``../shared/data``), as the service configures its
engines (short-clip window, encoder reuse on Whisper base):

1. **Per call** (one call at a time): CPU seconds (``time.process_time``: every thread
   of the process) and wall seconds of each kind of engine call a learn turn makes, at
   each CTranslate2 intra-op thread count of ``--threads``. On speechocean762 learner
   clips: tiny.en's transcription with word timings, Whisper base's quick (short
   window) and full-window language identification, its target support (forced and
   prompted reading of the clip's own sentence), its forced-Urdu transcription (what
   the repeat step asks of an attempt that may be Urdu), and the phone stage (hama).
   On the real Urdu clips: the language looks, the Urdu transcription and the speech
   translation. Piper reading a phrase-bank sentence, and encoding it as an MP3 piece.
2. **Throughput of pool shapes** (``--shapes W x T``): W threads, each taking the next
   English attempt (transcription, target support, phone stage: the work of one
   repeat turn) of the set, with CTranslate2 at T intra-op threads per call; the wall
   time to finish the set, median of ``--runs``, and CPU per attempt. W x T above the
   cores is oversubscription; W x T below leaves cores idle whenever fewer calls run.

numpy's BLAS runs on as many threads per call as CTranslate2, as the service sets it
(``ustad.runtime.blas_threads``); ``--blas-threads 0,1`` measures everything again at
each count (0: OpenBLAS's default, a thread per core).

Usage: ``PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/engine_costs.py
[--clips 24] [--threads 1,2] [--shapes 1x2,2x1,2x2,3x1] [--runs 3] [--blas-threads 0,1]``.
Needs a quiet machine (wall times). Nothing is written. Figures: docs/BENCHMARKS.md,
"Where the time goes" and "numpy's BLAS on one thread per call".
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clip_wer import DATA, SHARED_DATA, load_index

from ustad.runtime.blas_threads import limit_blas_threads
from ustad.settings import Settings
from ustad.speech.audio import decode_audio
from ustad.speech.model_paths import english_whisper_dir, multilingual_whisper_dir
from ustad.speech.mp3_pieces import encode_mp3_piece
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 14


def engines(threads: int, workers: int = 1) -> tuple[WhisperTranscriber, WhisperTranscriber]:
    """tiny.en and Whisper base as the service builds them, at ``threads`` per call."""
    settings = Settings()
    tiny = WhisperTranscriber(
        english_whisper_dir("packaged"),
        name="tiny.en",
        cpu_threads=threads,
        num_workers=workers,
        short_clip_window=True,
        redo_low_logprob=settings.stt.english_low_logprob_redo,
        english_window_max_seconds=settings.stt.english_window_max_seconds,
    )
    base = WhisperTranscriber(
        multilingual_whisper_dir("packaged", REPO_ROOT / "var" / "models"),
        name="base",
        cpu_threads=threads,
        num_workers=workers,
        short_clip_window=True,
        encodings_kept=settings.stt.encodings_kept,
        english_window_max_seconds=settings.stt.english_window_max_seconds,
    )
    return tiny, base


def timed(costs: dict[str, list[tuple[float, float]]], kind: str, call: Callable[[], Any]) -> Any:
    """Run ``call``, adding its (CPU, wall) seconds to ``costs[kind]``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    costs.setdefault(kind, []).append((time.process_time() - cpu, time.perf_counter() - wall))
    return out


def per_call(
    threads: int, learner: Sequence[tuple[Audio, str]], urdu: Sequence[Audio]
) -> dict[str, list[tuple[float, float]]]:
    """(CPU, wall) of every call kind, one call at a time."""
    tiny, base = engines(threads)
    aligner = PhoneAligner()
    costs: dict[str, list[tuple[float, float]]] = {}
    first = learner[0][0]
    tiny.transcribe(first, language="en", word_timestamps=True)  # loads and warms
    base.detect_language(first, short_window=True)
    aligner.log_probs(first.samples)
    for audio, text in learner:
        attempt_calls(costs, (tiny, base, aligner), audio, text)
    for audio in urdu:
        urdu_calls(costs, base, audio)
    return costs


def attempt_calls(
    costs: dict[str, list[tuple[float, float]]],
    models: tuple[WhisperTranscriber, WhisperTranscriber, PhoneAligner],
    audio: Audio,
    text: str,
) -> None:
    """An English attempt's calls in a repeat turn's order (encodings reused as there):
    the transcription, target support, the phone stage, then the checks for Urdu."""
    tiny, base, aligner = models
    timed(costs, "tiny.en transcription", lambda: tiny.transcribe(
        audio, language="en", word_timestamps=True))  # fmt: skip
    timed(costs, "base target support", lambda: base.target_support(audio, text))
    timed(costs, "phone stage (hama)", lambda: aligner.align(audio.samples, text.split()))
    # The look at an attempt is asked as the repeat step asks it: on the support's encoding.
    timed(costs, "base language id, short window", lambda: base.detect_language(
        audio, short_window=True, english_attempt=True))  # fmt: skip
    timed(costs, "base language id, full window", lambda: base.detect_language(audio))
    timed(costs, "base Urdu transcription of English", lambda: base.transcribe(
        audio, language="ur"))  # fmt: skip


def urdu_calls(
    costs: dict[str, list[tuple[float, float]]], base: WhisperTranscriber, audio: Audio
) -> None:
    """A first-time Urdu sentence's calls in the Urdu step's order, nothing cached."""
    base.encodings.clear()
    timed(costs, "Urdu: language id, short window", lambda: base.detect_language(
        audio, short_window=True))  # fmt: skip
    timed(costs, "Urdu: language id, full window", lambda: base.detect_language(audio))
    timed(costs, "Urdu: transcription", lambda: base.transcribe(audio, language="ur"))
    timed(costs, "Urdu: speech translation", lambda: base.transcribe(
        audio, language="ur", task="translate"))  # fmt: skip


def read_aloud(
    costs: dict[str, list[tuple[float, float]]], piper: Any, tts: Any, text: str
) -> None:
    """Piper reading ``text``, then its MP3 piece."""
    pcm = timed(costs, "Piper, one sentence", lambda: piper.synthesize(text))
    timed(costs, "MP3 piece of it", lambda: encode_mp3_piece(
        pcm,
        sample_rate=tts.sample_rate,
        bitrate=tts.mp3_bitrate,
        quality=tts.mp3_quality,
        gap_seconds=tts.gap_seconds,
    ))  # fmt: skip


def voice_costs(sentences: Sequence[str]) -> dict[str, list[tuple[float, float]]]:
    """Piper reading each sentence, and encoding it as one MP3 piece."""
    from ustad.speech.piper_tts import PiperSynthesizer

    tts = Settings().tts
    piper = PiperSynthesizer.packaged(threads=1)
    piper.synthesize(sentences[0])
    costs: dict[str, list[tuple[float, float]]] = {}
    for text in sentences:
        read_aloud(costs, piper, tts, text)
    return costs


def attempt_set(
    shape: tuple[int, int], learner: Sequence[tuple[Audio, str]]
) -> tuple[float, float]:
    """Wall seconds for a pool of W threads to assess every attempt, CPU per attempt."""
    workers, threads = shape
    tiny, base = engines(threads, workers)
    aligner = PhoneAligner()

    def attempt(item: tuple[Audio, str]) -> None:
        audio, text = item
        tiny.transcribe(audio, language="en", word_timestamps=True)
        base.target_support(audio, text)
        aligner.align(audio.samples, text.split())

    together = threading.Barrier(workers)

    def warm(item: tuple[Audio, str]) -> None:
        together.wait()  # one item per thread: every thread loads its own sessions
        attempt(item)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(warm, learner[:workers]))
        base.encodings.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        list(pool.map(attempt, learner))
        return time.perf_counter() - wall, (time.process_time() - cpu) / len(learner)


def report(costs: dict[str, list[tuple[float, float]]], label: str) -> None:
    for kind, rows in costs.items():
        cpu = statistics.mean(c for c, _ in rows)
        wall = statistics.mean(w for _, w in rows)
        print(f"| {label} | {kind} | {len(rows)} | {cpu:.3f} | {wall:.3f} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24, help="learner clips (seeded sample)")
    parser.add_argument("--threads", default="1,2", help="intra-op threads to measure per call")
    parser.add_argument("--shapes", default="1x2,2x1,2x2,3x1", help="pool shapes W x T")
    parser.add_argument("--runs", type=int, default=3, help="runs per shape (median)")
    parser.add_argument(
        "--blas-threads",
        default="",
        help="numpy BLAS threads per call to measure, e.g. 0,1 (0: the library's default, a"
        " thread per core); default: the intra-op threads, as the service sets them",
    )
    args = parser.parse_args(argv)
    rows = random.Random(SEED).sample(load_index(), args.clips)
    learner = [(decode_audio((DATA / r["file"]).read_bytes()), r["text"].lower()) for r in rows]
    urdu_dir = SHARED_DATA / "urdu"
    urdu = [decode_audio(p.read_bytes()) for p in sorted(urdu_dir.glob("*.wav"))]
    seconds = sum(a.duration for a, _ in learner) / len(learner)
    print(f"{len(learner)} learner clips (mean {seconds:.2f} s), {len(urdu)} Urdu clips\n")
    blas = [int(b) for b in args.blas_threads.split(",")] if args.blas_threads else [None]

    def blas_label(b: int | None, threads: int) -> str:
        return str(threads if b is None else b)

    print("| BLAS threads | intra-op threads | call | n | CPU s | wall s |")
    print("|---|---|---|---:|---:|---:|")
    for b in blas:
        for threads in (int(t) for t in args.threads.split(",")):
            with blas_threads(threads if b is None else b):
                label = f"{blas_label(b, threads)} | {threads}"
                report(per_call(threads, learner, urdu), label)
        with blas_threads(1 if b is None else b):
            sentences = [text for _, text in learner[:12]]
            report(voice_costs(sentences), f"{blas_label(b, 1)} | 1 (ONNX)")
    columns = "BLAS threads | pool W x T | attempts | wall s (median) | attempts/s"
    print(f"\n| {columns} | CPU s per attempt |")
    print("|---|---|---:|---:|---:|---:|")
    for b in blas:
        for shape in args.shapes.split(","):
            w, t = (int(x) for x in shape.split("x"))
            with blas_threads(t if b is None else b):
                runs = [attempt_set((w, t), learner) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(
                f"| {blas_label(b, t)} | {w} x {t} | {len(learner)} | {wall:.2f} |"
                f" {len(learner) / wall:.2f} | {cpu:.3f} |"
            )
    return 0


@contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """numpy's BLAS on ``threads`` threads per call inside the block (0: the library's
    default), as ``ustad.runtime.blas_threads`` sets it for the service."""
    restore = limit_blas_threads(threads)
    try:
        yield
    finally:
        restore()


if __name__ == "__main__":
    raise SystemExit(main())
