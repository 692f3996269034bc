"""Whisper's short-clip window against the full 30 s window on the 300 learner clips.

Two copies of the service's English engine (WhisperTranscriber on tiny.en, word
timestamps, the default temperatures and token budget), one with
``short_clip_window`` and one without, transcribe every speechocean762 clip in the
same run, alternating which goes first. Prints, for each:

* WER against the prompted sentences (the same normalisation as
  ``assessment_quality.py``, from ``clip_wer.py``) and the assessment pass rate
  (``ustad.assess.score.assess``, default pass mark);
* wall and CPU time per clip (CPU time counts CTranslate2's threads too, and is the
  steadier figure on a shared machine): medians, means, their ratios, and the same
  per clip length (up to 3 s, 3-6 s, over 6 s);
* how often the short window was rejected and the clip decoded again in the full
  window, and why;
* one clip of 3.0 s timed ``--runs`` times each way (median).

With ``--multilingual``, also Whisper base (the Urdu step's engine): the two Urdu
clips transcribed (forced to Urdu) and translated in both windows, and language
identification of the learner clips in the full window against the short window
transcription would use (which is why ``detect_language`` keeps the full window).

Usage: ``.venv/bin/python benchmarks/short_clip.py [--limit N] [--runs 20]
[--multilingual]``. Nothing is written outside ``var/models`` (where base is
assembled once, as the service does).
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from clip_wer import DATA, SHARED_DATA, corpus_wer, load_index

from ustad.assess.score import assess
from ustad.speech.audio import decode_audio
from ustad.speech.model_paths import english_whisper_dir, multilingual_whisper_dir
from ustad.speech.types import Audio, Transcript
from ustad.speech.whisper import WhisperTranscriber
from ustad.speech.whisper.checks import short_window_doubt
from ustad.speech.whisper.window import short_window_frames

BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<= 3 s", 0.0, 3.0),
    ("3-6 s", 3.0, 6.0),
    ("> 6 s", 6.0, float("inf")),
)
CLIP_SECONDS = 3.0
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    """One engine's results over the clips."""

    transcripts: dict[str, Transcript] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


class RejectionCounter(logging.Handler):
    """Counts the short windows the transcriber rejected, by reason, from its debug log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: Counter[str] = Counter()
        self.clips: set[str] = set()
        self.current = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if "short window rejected" in message and isinstance(record.args, tuple):
            self.reasons[str(record.args[1])] += 1
            self.clips.add(self.current)


def transcribe(engine: WhisperTranscriber, audio: Audio) -> Transcript:
    """As a learn turn transcribes an English attempt."""
    return engine.transcribe(audio, language="en", word_timestamps=True)


def timed(engine: WhisperTranscriber, audio: Audio) -> tuple[Transcript, float, float]:
    """The transcript, wall seconds and process CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = transcribe(engine, audio)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run_clips(
    rows: Sequence[dict[str, str]],
    audios: dict[str, Audio],
    full: WhisperTranscriber,
    short: WhisperTranscriber,
    rejections: RejectionCounter,
) -> tuple[Run, Run]:
    runs = (Run(), Run())
    started = time.perf_counter()
    for n, row in enumerate(rows):
        utt_id = row["utt_id"]
        rejections.current = utt_id
        # Alternating the order keeps any warm-cache or load drift off one side.
        order = ((0, full), (1, short)) if n % 2 == 0 else ((1, short), (0, full))
        for index, engine in order:
            transcript, wall, cpu = timed(engine, audios[utt_id])
            runs[index].transcripts[utt_id] = transcript
            runs[index].wall[utt_id] = wall
            runs[index].cpu[utt_id] = cpu
        if (n + 1) % 50 == 0:
            print(f"  {n + 1}/{len(rows)} clips ({time.perf_counter() - started:.0f} s)")
    return runs


def ratio(baseline: float, candidate: float) -> str:
    return f"{baseline / candidate:.2f}x" if candidate > 0 else "-"


def time_row(name: str, ids: Sequence[str], full: Run, short: Run) -> str:
    cells = [name, str(len(ids))]
    for kind in ("wall", "cpu"):
        f = [getattr(full, kind)[i] * 1000 for i in ids]
        s = [getattr(short, kind)[i] * 1000 for i in ids]
        cells += [
            f"{statistics.median(f):.0f} / {statistics.median(s):.0f}",
            ratio(statistics.median(f), statistics.median(s)),
            f"{statistics.mean(f):.0f} / {statistics.mean(s):.0f}",
            ratio(statistics.mean(f), statistics.mean(s)),
        ]
    return "| " + " | ".join(cells) + " |"


def quality_row(
    name: str, rows: Sequence[dict[str, str]], full: Run, short: Run, rejected: set[str]
) -> str:
    cells = [name, str(len(rows))]
    for run in (full, short):
        cells.append(f"{100 * corpus_wer(_pairs(rows, run)):.1f} %")
    for run in (full, short):
        cells.append(str(sum(assess(text, heard).passed for text, heard in _pairs(rows, run))))
    ids = [row["utt_id"] for row in rows]
    cells.append(str(sum(full.transcripts[i].text == short.transcripts[i].text for i in ids)))
    cells.append(str(sum(r["utt_id"] in rejected for r in rows)))
    return "| " + " | ".join(cells) + " |"


def _pairs(rows: Sequence[dict[str, str]], run: Run) -> list[tuple[str, Transcript]]:
    return [(row["text"], run.transcripts[row["utt_id"]]) for row in rows]


def three_second_clip(
    rows: Sequence[dict[str, str]], audios: dict[str, Audio]
) -> tuple[str, Audio]:
    """The clip closest to 3.0 s, cut or padded with silence to exactly 3.0 s."""
    utt_id = min(audios, key=lambda i: abs(audios[i].duration - CLIP_SECONDS))
    samples = audios[utt_id].samples
    count = round(CLIP_SECONDS * audios[utt_id].sample_rate)
    exact = np.zeros(count, dtype=np.float32)
    exact[: min(count, len(samples))] = samples[:count]
    return utt_id, Audio(exact)


def multilingual_report(
    rows: Sequence[dict[str, str]],
    audios: dict[str, Audio],
    runs: int,
    rejections: RejectionCounter,
) -> None:
    """Whisper base: the Urdu clips in both windows, and language id in a short window."""
    model_dir = multilingual_whisper_dir("packaged", REPO_ROOT / "var" / "models")
    full = WhisperTranscriber(model_dir, name="base full window")
    short = WhisperTranscriber(model_dir, name="base short window", short_clip_window=True)
    with (SHARED_DATA / "urdu" / "index.tsv").open(encoding="utf-8") as handle:
        urdu = list(csv.DictReader(handle, delimiter="\t"))
    print(f"\nWhisper base on the Urdu clips, median of {runs} runs each way:")
    print("| clip | task | full window | ms | short window | ms | short window kept |")
    print("|---|---|---|---|---|---|---|")
    for row in urdu:
        audio = decode_audio((SHARED_DATA / "urdu" / row["file"]).read_bytes())
        rejections.clips.clear()
        rejections.current = row["file"]
        texts: dict[str, str] = {}
        walls: dict[str, list[float]] = {"full": [], "short": []}
        for n in range(runs):
            order = (("full", full), ("short", short))
            for name, engine in order if n % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                texts[name] = engine.transcribe(audio, language="ur").text
                walls[name].append(1000 * (time.perf_counter() - started))
        print(
            f"| {audio.duration:.1f} s | transcribe | {texts['full']} "
            f"| {statistics.median(walls['full']):.0f} | {texts['short']} "
            f"| {statistics.median(walls['short']):.0f} "
            f"| {'no' if rejections.clips else 'yes'} |"
        )
        # Translations always take the full window; this is what a short one would
        # give, and whether the checks would catch it.
        translation = full.transcribe(audio, language="ur", task="translate").text
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        frames = short_window_frames(audio.duration)
        in_short = short._decode(
            samples,
            audio.duration,
            language="ur",
            task="translate",
            word_timestamps=False,
            window_frames=frames,
            temperatures=(0.0,),
        )
        doubt = short_window_doubt(in_short, audio.duration)
        print(
            f"| {audio.duration:.1f} s | translate | {translation} | | "
            f"{in_short.transcript.text} | | not used (checks: {doubt or 'pass'}) |"
        )

    # What detect_language would report in the window transcription uses; it always
    # takes the full window because of what this prints.
    english = {"full": 0, "short": 0}
    probabilities: dict[str, list[float]] = {"full": [], "short": []}
    differing = 0
    for row in rows:
        audio = audios[row["utt_id"]]
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        decided = {}
        for name in ("full", "short"):
            frames = short_window_frames(audio.duration) if name == "short" else None
            with short.model.window(frames):
                language, probability, ranked = short.model.detect_language(audio=samples)
            decided[name] = language == "en" and probability >= 0.5
            english[name] += decided[name]
            probabilities[name].append(dict(ranked).get("en", 0.0))
        differing += decided["full"] != decided["short"]
    print(f"\nlanguage id of the {len(rows)} learner clips (base): heard as English (p >= 0.5)")
    for name in ("full", "short"):
        mean = statistics.mean(probabilities[name])
        print(f"  {name:5} window: {english[name]}, mean P(en) {mean:.2f}")
    print(f"  clips decided differently: {differing}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    parser.add_argument("--runs", type=int, default=20, help="runs each way on the 3.0 s clip")
    parser.add_argument(
        "--multilingual", action="store_true", help="also Whisper base: Urdu and language id"
    )
    args = parser.parse_args()

    rows = load_index(args.limit)
    audios = {row["utt_id"]: decode_audio((DATA / row["file"]).read_bytes()) for row in rows}
    model_dir = english_whisper_dir("packaged")
    full = WhisperTranscriber(model_dir, name="tiny.en full window")
    short = WhisperTranscriber(model_dir, name="tiny.en short window", short_clip_window=True)
    rejections = RejectionCounter()
    stt_log = logging.getLogger("ustad.speech.whisper.transcriber")
    stt_log.addHandler(rejections)
    stt_log.setLevel(logging.DEBUG)
    stt_log.propagate = False

    for engine in (full, short):  # load and warm both before timing anything
        transcribe(engine, next(iter(audios.values())))
    rejections.reasons.clear()
    rejections.clips.clear()
    print(f"transcribing {len(rows)} clips with both windows ...")
    full_run, short_run = run_clips(rows, audios, full, short, rejections)
    rejected = set(rejections.clips)

    print(f"\nclips: {len(rows)}; short window rejected on {len(rejected)}:", end=" ")
    print(", ".join(f"{reason} {n}" for reason, n in rejections.reasons.most_common()))
    print("\nquality (full / short): WER against the prompted sentence, assessments passed")
    print(
        "| clips | n | WER full | WER short | passed full | passed short | same text | rejected |"
    )
    print("|---|---|---|---|---|---|---|---|")
    groups = [("all", list(rows))]
    for name, low, high in BUCKETS:
        groups.append((name, [r for r in rows if low < audios[r["utt_id"]].duration <= high]))
    for name, group in groups:
        if group:
            print(quality_row(name, group, full_run, short_run, rejected))

    print("\ntime per clip in ms (full / short) and how many times less the short path takes")
    print(
        "| clips | n | wall median | ratio | wall mean | ratio "
        "| CPU median | ratio | CPU mean | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, group in groups:
        if group:
            ids = [r["utt_id"] for r in group]
            print(time_row(name, ids, full_run, short_run))

    utt_id, clip = three_second_clip(rows, audios)
    rejections.clips.clear()
    rejections.current = utt_id
    walls: dict[str, list[float]] = {"full": [], "short": []}
    cpus: dict[str, list[float]] = {"full": [], "short": []}
    texts: dict[str, str] = {}
    for n in range(args.runs):
        order = (("full", full), ("short", short))
        for name, engine in order if n % 2 == 0 else order[::-1]:
            heard, wall, cpu = timed(engine, clip)
            walls[name].append(wall * 1000)
            cpus[name].append(cpu * 1000)
            texts[name] = heard.text
    accepted = "rejected, full window decoded" if rejections.clips else "accepted"
    print(f"\none 3.0 s clip ({utt_id}, cut to 3.0 s), {args.runs} runs each way:")
    print(f"  full window : {texts['full']!r}")
    print(f"  short window: {texts['short']!r} (short window {accepted})")
    for label, values in (("wall", walls), ("CPU", cpus)):
        f, s = statistics.median(values["full"]), statistics.median(values["short"])
        print(f"  median {label} ms: full {f:.0f}, short {s:.0f}, {ratio(f, s)} less")
    if args.multilingual:
        multilingual_report(rows, audios, max(3, args.runs // 4), rejections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
