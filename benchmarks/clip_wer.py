"""The speechocean762 learner clips and the WER of transcripts against their sentences.

Shared by the benchmarks (``assessment_quality.py``, ``short_clip.py``) so every WER
in ``docs/measurements.md`` is computed the same way: the prompted sentence and the
heard words both go through the assessment's normaliser (case, punctuation,
contractions), numbers heard as digits are read the way that fits the sentence best
(as the aligner does), and an empty transcript counts as one wrong word.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import jiwer

from ustad.assess.align import align
from ustad.assess.normalize import normalize_heard, normalize_target
from ustad.speech.types import Transcript

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""``../shared/data`` beside the checkout."""
DATA = SHARED_DATA / "speechocean762"


def load_index(limit: int | None = None) -> list[dict[str, str]]:
    """Rows of ``index.tsv`` (``utt_id``, ``file``, ``text``, ...), the first ``limit``."""
    with (DATA / "index.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return rows[:limit] if limit else rows


def resolved_hypothesis(target: str, transcript: Transcript) -> list[str]:
    """Heard tokens with numbers read the way that best fits the target."""
    tokens = normalize_heard([w.text for w in transcript.words] or transcript.text.split())
    alignment = align([t.text for t in normalize_target(target).tokens], tokens)
    return [token.text for token in alignment.heard]


def corpus_wer(pairs: Sequence[tuple[str, Transcript]]) -> float:
    """Word error rate (0-1) over (prompted sentence, transcript) pairs, pooled."""
    references = [" ".join(t.text for t in normalize_target(target).tokens) for target, _ in pairs]
    hypotheses = [" ".join(resolved_hypothesis(target, heard)) for target, heard in pairs]
    return float(jiwer.wer(references, [h if h else "<empty>" for h in hypotheses]))
