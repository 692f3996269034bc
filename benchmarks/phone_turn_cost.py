"""What ``assessment.phones`` adds to an English turn: CPU seconds, and the tips it gives.

For each speechocean762 learner clip (../shared/data), against the sentence the learner
was asked to read, as a learn turn does it: tiny.en's transcription with word
timestamps and the transcript-level assessment (the turn's English work without phones),
then the phone stage (``PhoneAligner.align`` on the target's written words, as
``ustad.learn.phone_stage.AttemptPhones`` asks it), each timed with
``time.process_time`` (CPU of every thread of the process). Decoding, VAD and target
support are left out of both sides, so the ratio is an upper bound of the share the
phone stage adds to a turn. Also counted: alignments refused, and the attempts whose
feedback would carry a sound tip (``ustad.tutor.sound_tips``), by kind.

Measured (300 clips, machine under load, two runs; docs/measurements.md, "Phones in the
turn"): transcription + assessment 1.003 / 1.056 s CPU per clip, phone stage 0.362 /
0.403 s (ratio 0.36 / 0.38), no alignment refused; a sound tip on 27 of 300 attempts
(run 1; 7 with the spelling check, run 2).

Usage: ``PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/phone_turn_cost.py
[--limit N]``. Nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Sequence

from clip_wer import DATA, load_index

from ustad.assess.score import assess
from ustad.assess.support import written_words
from ustad.speech.audio import decode_audio
from ustad.speech.model_paths import english_whisper_dir
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.phones.types import PhoneAlignmentError
from ustad.speech.whisper import WhisperTranscriber
from ustad.tutor.sound_tips import sound_tip


def main(argv: Sequence[str] | None = None) -> int:
    """Time both sides on each clip and print the per-clip means and the tip counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="learner clips (default all)")
    args = parser.parse_args(argv)
    rows = load_index(args.limit)
    aligner = PhoneAligner()
    engine = WhisperTranscriber(english_whisper_dir("packaged"), name="tiny.en")
    english: list[float] = []
    phones: list[float] = []
    refused = 0
    tips: Counter[str] = Counter()
    strict = 0
    for n, row in enumerate(rows):
        audio = decode_audio((DATA / row["file"]).read_bytes())
        started = time.process_time()
        transcript = engine.transcribe(audio, language="en", word_timestamps=True)
        assessment = assess(row["text"], transcript)
        english.append(time.process_time() - started)
        started = time.process_time()
        try:
            found = aligner.align(audio.samples, written_words(row["text"]))
        except PhoneAlignmentError:
            refused += 1
            continue
        finally:
            phones.append(time.process_time() - started)
        with_phones = assessment.with_phones(found)
        tip = sound_tip(with_phones)
        if tip is not None:
            tips[tip.kind] += 1
        strict += sound_tip(with_phones, spelling=True) is not None
        if (n + 1) % 50 == 0:
            print(f"  {n + 1}/{len(rows)} clips", flush=True)
    mean_english, mean_phones = statistics.fmean(english), statistics.fmean(phones)
    print(f"\nclips: {len(rows)}; phone alignments refused: {refused}")
    print("| CPU seconds per clip | mean | median |")
    print("|---|---|---|")
    print(f"| transcription + assessment | {mean_english:.3f} | {statistics.median(english):.3f} |")
    print(f"| phone stage | {mean_phones:.3f} | {statistics.median(phones):.3f} |")
    print(f"phone stage / (transcription + assessment): {mean_phones / mean_english:.2f}")
    given = sum(tips.values())
    print(f"attempts with a sound tip: {given} of {len(rows) - refused} ({dict(tips)})")
    print(f"with the spelling check too (spelling=True): {strict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
