"""Helpers shared by the Whisper tests: clips, silence, scripted segments, spies."""

from __future__ import annotations

import unicodedata
from types import SimpleNamespace
from typing import TYPE_CHECKING

import faster_whisper.transcribe as fw
import jiwer
import numpy as np
import pytest

from ustad.assess.align import align
from ustad.assess.normalize import normalize_heard, normalize_target
from ustad.speech.types import Audio
from ustad.speech.whisper import WhisperTranscriber

if TYPE_CHECKING:
    from tests.conftest import LearnerClip
    from tests.speech.conftest import WavLoader

URDU_LANGUAGES = {"ur", "hi"}  # Whisper often hears spoken Urdu as Hindi


def clip_audio(clips: list[LearnerClip], utt_id: str, load_wav: WavLoader) -> Audio:
    """The learner clip ``utt_id`` as audio."""
    return load_wav(next(c.path for c in clips if c.utt_id == utt_id))


def silence(seconds: float = 2.0) -> Audio:
    """``seconds`` of digital silence."""
    return Audio(np.zeros(round(seconds * 16_000), dtype=np.float32))


def arabic_script_share(text: str) -> float:
    """Share of the letters that are Arabic script (Urdu), 0-1."""
    letters = [ch for ch in text if ch.isalpha()]
    arabic = [ch for ch in letters if unicodedata.name(ch, "").startswith("ARABIC")]
    return len(arabic) / max(len(letters), 1)


def latin_share(text: str) -> float:
    """Share of the letters that are ASCII, 0-1."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(ch.isascii() for ch in letters) / max(len(letters), 1)


def corpus_wer(references: list[str], heard: list[str]) -> float:
    """Word error rate (0-1) of ``heard`` against the sentences, pooled over all of them.

    Both sides go through the assessment's normaliser (case, punctuation, numbers read
    the way that best fits the sentence), so "2,648" against "TWO SIX FOUR EIGHT"
    is not counted as four errors.
    """
    targets = [[t.text for t in normalize_target(r).tokens] for r in references]
    resolved = [
        [t.text for t in align(target, normalize_heard(text.split())).heard]
        for target, text in zip(targets, heard, strict=True)
    ]
    return float(
        jiwer.wer([" ".join(t) for t in targets], [" ".join(h) or "<empty>" for h in resolved])
    )


def urdu_words_heard(references: list[str], heard: list[str]) -> float:
    """Share of the sentences' words (pooled) found among the words heard for them, 0-1."""
    found = sum(
        word in set(text.split())
        for reference, text in zip(references, heard, strict=True)
        for word in reference.split()
    )
    return found / sum(len(reference.split()) for reference in references)


def segment(
    start: float,
    end: float,
    text: str,
    *,
    avg_logprob: float,
    no_speech_prob: float,
    compression_ratio: float = 1.0,
    tokens: int = 0,
    temperature: float = 0.0,
) -> fw.Segment:
    """A faster-whisper segment as a decode would give it (one word per space)."""
    words = [fw.Word(start, end, f" {w}", 0.5) for w in text.split()]
    ids, ratio = list(range(tokens)), compression_ratio
    return fw.Segment(
        0, 0, start, end, f" {text}", ids, avg_logprob, ratio, no_speech_prob, words, temperature
    )


def encoder_widths(engine: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Encoder output positions (half the mel frames) of every window ``engine`` encodes."""
    widths: list[int] = []
    encode = engine._model.encode

    def spy(features: object) -> object:
        output = encode(features)
        widths.append(output.shape[1])
        return output

    monkeypatch.setattr(engine._model, "encode", spy)
    return widths


def decode_results(
    engine: WhisperTranscriber,
    monkeypatch: pytest.MonkeyPatch,
    short: list[fw.Segment],
    full: list[fw.Segment],
) -> list[dict[str, object]]:
    """Make faster-whisper return ``short`` in a short window and ``full`` in the full one.

    Returns the arguments of every call, with the window (``frames``) it ran in.
    """
    calls: list[dict[str, object]] = []

    def transcribe(samples: object, **kwargs: object) -> tuple[object, object]:
        frames = engine._model.window_frames
        calls.append({"frames": frames, **kwargs})
        info = SimpleNamespace(language=kwargs["language"] or "en", language_probability=1.0)
        return iter(short if frames is not None else full), info

    monkeypatch.setattr(engine._model, "transcribe", transcribe)
    return calls
