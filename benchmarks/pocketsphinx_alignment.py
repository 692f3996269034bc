"""Why pocketsphinx 5.1.1's phone alignment fails on learner clips (issue 13).

The comparison that chose the phone stage's engine (docs/measurements.md, "Phones and
GOP"): pocketsphinx's two-pass alignment (``set_align_text``, decode, then
``set_alignment`` and a second decode for phones), with its packaged US-English model
and CMU dictionary, on the speechocean762 clips, as is and with ``--pad`` seconds of
digital silence before and after. Prints per variant the clips aligned, the failures
by message, and CPU seconds per clip. Words not in the dictionary fail with "Failed to
set up alignment"; the second pass fails with "Failed to stop utterance processing"
in the failing clips examined, the first pass's word segmentation began with a
zero-length ``<s>`` (0.2 s of padding removes about half of these failures).

Usage: ``.venv/bin/python benchmarks/pocketsphinx_alignment.py [--limit N] [--pad S]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import wave
from collections import Counter
from collections.abc import Sequence

import numpy as np
from clip_wer import DATA, load_index


def align(decoder: object, pcm: np.ndarray, text: str) -> int:
    """Phones aligned (raises RuntimeError as pocketsphinx does)."""
    raw = pcm.tobytes()
    d: object = decoder
    d.set_align_text(text)  # type: ignore[attr-defined]
    for _ in range(2):
        d.start_utt()  # type: ignore[attr-defined]
        d.process_raw(raw, full_utt=True)  # type: ignore[attr-defined]
        d.end_utt()  # type: ignore[attr-defined]
        if d.get_alignment() is None:  # type: ignore[attr-defined]
            d.set_alignment()  # type: ignore[attr-defined]
    return sum(1 for _ in d.get_alignment().phones())  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    """Align every clip with and without padding and print the failures."""
    from pocketsphinx import Decoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--pad", type=float, default=0.2, help="seconds of silence each side")
    args = parser.parse_args(argv)
    rows = load_index(args.limit)
    decoder = Decoder(lm=None, loglevel="FATAL")
    for pad in (0.0, args.pad):
        zeros = np.zeros(int(pad * 16000), dtype=np.int16)
        failures: Counter[str] = Counter()
        started = time.process_time()
        for row in rows:
            with wave.open(str(DATA / row["file"])) as handle:
                pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
            try:
                align(decoder, np.concatenate([zeros, pcm, zeros]), row["text"].lower())
            except RuntimeError as error:
                failures[str(error).split(" of ")[0]] += 1
        seconds = (time.process_time() - started) / len(rows)
        failed = sum(failures.values())
        print(f"pad {pad:.1f} s: aligned {len(rows) - failed}/{len(rows)} "
              f"({1 - failed / len(rows):.3f}), {seconds:.3f} s CPU per clip")  # fmt: skip
        for message, count in failures.most_common():
            print(f"  {count:4d}  {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
