"""tiny.en against the packaged multilingual Whisper base as the English recogniser.

Both models run as the repeat step runs them (``WhisperTranscriber`` with the server's
default settings: int8, 2 CPU threads, greedy with sampled fallbacks, the short-clip
window, word timestamps; base decoded with ``language="en"``) on the 300
speechocean762 learner clips, and the script prints one table:

* WER against the sentence the learner read (the assessment's normaliser, as
  ``clip_wer.corpus_wer``);
* own-sentence pass rate: each clip assessed against its own sentence;
* other-sentence rejection: each clip against three other sentences (offsets 1, 7 and
  101 in the index), the share that does not pass;
* swapped-word flagging: for clips whose own attempt had every word correct, one word
  of the sentence replaced by an unrelated one, the share where it is not CORRECT;
* cost per clip: process CPU seconds and wall seconds of one ``transcribe`` call, the
  median over ``--runs`` runs for each clip, then the median and mean over the clips
  (all of them, or the first ``--timed-clips``); and the Whisper decodes per clip
  (``decode_calls``).

Usage: ``.venv/bin/python benchmarks/english_model.py [--runs 3] [--timed-clips N]
[--limit N] [--models tiny.en,base] [--cache DIR] [--models-dir DIR] [--no-pieces]``.
Every clip's result is kept in ``--cache`` (outside the repository; by default in the
temporary directory), so an interrupted or repeated run only decodes what is missing.
The machine's other load shows in the wall times; CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assessment_quality import MISMATCH_OFFSETS, SEED, swapped_target, target_results
from clip_wer import DATA, corpus_wer, load_index

from ustad.assess.score import assess
from ustad.assess.types import WordStatus
from ustad.speech.types import Transcript, Word

REPO_ROOT = Path(__file__).resolve().parents[1]
MODELS = ("tiny.en", "base")


def load_engine(model: str, models_dir: Path) -> Any:
    """The English recogniser ``model`` as the server builds it from default settings."""
    from ustad.settings import Settings
    from ustad.speech.model_paths import english_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    stt = Settings().stt
    return WhisperTranscriber(
        english_whisper_dir(model, models_dir),
        name=model,
        compute_type=stt.compute_type,
        cpu_threads=stt.cpu_threads,
        beam_size=stt.beam_size,
        short_clip_window=stt.short_clip_window,
        # Served base is the multilingual engine, which redoes unsure readings.
        redo_low_logprob=model == "base" or stt.english_low_logprob_redo,
        english_window_max_seconds=stt.english_window_max_seconds,
    )


def measure(engine: Any, rows: list[dict[str, str]], cache: dict[str, Any], save: Any) -> None:
    """Transcribe the ``rows`` not yet in ``cache`` (``utt_id`` -> result) and record them."""
    from ustad.speech.audio import decode_audio

    for n, row in enumerate(rows, 1):
        if row["utt_id"] in cache:
            continue
        audio = decode_audio((DATA / row["file"]).read_bytes())
        decodes_before = engine.decode_calls
        cpu, wall = time.process_time(), time.perf_counter()
        transcript = engine.transcribe(audio, language="en", word_timestamps=True)
        cache[row["utt_id"]] = {
            "cpu": time.process_time() - cpu,
            "wall": time.perf_counter() - wall,
            "decodes": engine.decode_calls - decodes_before,
            "transcript": asdict(transcript),
        }
        if n % 25 == 0:
            save()
            print(f"  {engine.name}: {n}/{len(rows)}", file=sys.stderr)
    save()


def transcript_of(stored: dict[str, Any]) -> Transcript:
    """A ``Transcript`` back from its cached JSON."""
    value = dict(stored)
    words = tuple(Word(**w) for w in value.pop("words"))
    return Transcript(**value, words=words)


def quality(rows: list[dict[str, str]], heard: dict[str, Transcript]) -> dict[str, float]:
    """WER, own-sentence pass rate, other-sentence rejection and swapped-word flagging."""
    own = [assess(row["text"], heard[row["utt_id"]]) for row in rows]
    all_correct = [
        row
        for row, result in zip(rows, own, strict=True)
        if all(status is WordStatus.CORRECT for status in target_results(result))
    ]
    others = [
        (row, rows[(i + offset) % len(rows)]["text"])
        for offset in MISMATCH_OFFSETS
        for i, row in enumerate(rows)
        if rows[(i + offset) % len(rows)]["text"] != row["text"]
    ]
    rejected = sum(not assess(text, heard[row["utt_id"]]).passed for row, text in others)
    rng = random.Random(SEED)
    pool = sorted({word for row in load_index(None) for word in row["text"].split()})
    flagged = 0
    for row in all_correct:
        swapped, position = swapped_target(row["text"].split(), rng, pool)
        statuses = target_results(assess(swapped, heard[row["utt_id"]]))
        flagged += statuses[position] is not WordStatus.CORRECT
    return {
        "wer": corpus_wer([(row["text"], heard[row["utt_id"]]) for row in rows]),
        "own_pass": sum(result.passed for result in own) / len(rows),
        "other_rejected": rejected / max(len(others), 1),
        "swap_flagged": flagged / max(len(all_correct), 1),
    }


def cost(runs: list[dict[str, Any]], rows: list[dict[str, str]]) -> dict[str, float]:
    """Median and mean over ``rows`` of each clip's median CPU and wall seconds."""
    figures: dict[str, float] = {}
    for key in ("cpu", "wall"):
        per_clip = [statistics.median(run[row["utt_id"]][key] for run in runs) for row in rows]
        figures[f"{key}_median"] = statistics.median(per_clip)
        figures[f"{key}_mean"] = statistics.fmean(per_clip)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per clip")
    parser.add_argument(
        "--timed-clips",
        type=int,
        default=None,
        help="runs after the first only on the first N clips (the cost is theirs)",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    default_cache = Path(tempfile.gettempdir()) / "ustad-english-model"
    parser.add_argument("--cache", type=Path, default=default_cache, help="result cache dir")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument(
        "--no-pieces",
        action="store_true",
        help="never decode a looping clip again in voiced pieces (the decodes before them)",
    )
    args = parser.parse_args()
    if args.no_pieces:
        import ustad.speech.whisper.transcriber as transcriber

        transcriber.voiced_pieces = lambda audio: []  # type: ignore[assignment]
    if args.cache.resolve().is_relative_to(REPO_ROOT):
        parser.error("keep the cache outside the repository")
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = load_index(args.limit)

    table: list[tuple[str, dict[str, float]]] = []
    for model in args.models.split(","):
        runs: list[dict[str, Any]] = []
        engine = None
        for run in range(args.runs):
            path = args.cache / f"{model}-run{run}.json"
            found: dict[str, Any] = (
                json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            )
            wanted = rows if run == 0 else rows[: args.timed_clips]
            if any(row["utt_id"] not in found for row in wanted):
                engine = engine or load_engine(model, args.models_dir)

                def save(found: dict[str, Any] = found, path: Path = path) -> None:
                    path.write_text(json.dumps(found), encoding="utf-8")

                measure(engine, wanted, found, save)
            runs.append(found)
        heard = {row["utt_id"]: transcript_of(runs[0][row["utt_id"]]["transcript"]) for row in rows}
        decodes = statistics.fmean(runs[0][row["utt_id"]]["decodes"] for row in rows)
        figures = quality(rows, heard) | cost(runs, rows[: args.timed_clips])
        table.append((model, figures | {"decodes": decodes}))

    timed = len(rows[: args.timed_clips])
    print(f"{len(rows)} speechocean762 clips; cost: median of {args.runs} runs on {timed} of them")
    print(
        "| model | WER | own sentence passes | other sentence rejected | swapped word flagged "
        "| CPU s/clip median (mean) | wall s/clip median (mean) | decodes/clip |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for model, f in table:
        print(
            f"| {model} | {100 * f['wer']:.1f} % | {100 * f['own_pass']:.1f} % "
            f"| {100 * f['other_rejected']:.1f} % | {100 * f['swap_flagged']:.1f} % "
            f"| {f['cpu_median']:.2f} ({f['cpu_mean']:.2f}) "
            f"| {f['wall_median']:.2f} ({f['wall_mean']:.2f}) | {f['decodes']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
