"""ustad's ``Transcript``, ``Word``s and segments from what faster-whisper decoded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ustad.speech.types import SAMPLE_RATE, Audio, Transcript, TranscriptSegment, Word


@dataclass(frozen=True)
class Decoded:
    """One decode of a clip: the transcript it gives and what it was made from."""

    transcript: Transcript
    """What the clip says (repetition loops left out)."""
    segments: tuple[Any, ...]
    """Every faster-whisper ``Segment`` decoded, repetition loops included."""
    tokens: int
    """Tokens decoded over all segments (timestamp tokens included)."""
    doubt: str | None = None
    """Why this reading of a long clip's own window is in doubt, when it was kept to be
    decoded again in voiced pieces rather than in the full window."""


def words_of(segments: Sequence[Any]) -> list[Word]:
    """The timed words of faster-whisper segments decoded with ``word_timestamps``.

    Texts are stripped of the leading space Whisper gives each word but keep attached
    punctuation (``study.``); times are seconds from the clip's start; blank words
    are left out. Segments without words give none.
    """
    words = []
    for segment in segments:
        for word in segment.words or ():
            text = word.word.strip()
            if text:
                words.append(
                    Word(
                        text=text,
                        start=float(word.start),
                        end=float(word.end),
                        probability=float(word.probability),
                    )
                )
    return words


def text_of(segments: Sequence[Any]) -> str:
    """The segments' texts joined as Whisper spaced them, without outer whitespace."""
    return "".join(s.text for s in segments).strip()


def segments_of(segments: Sequence[Any], *, offset: float = 0.0) -> tuple[TranscriptSegment, ...]:
    """ustad's segments of decoded Whisper segments (faster-whisper's ``Segment``, or a
    remote ``verbose_json`` segment: whatever has ``text``, ``start`` and ``end``; the
    other fields are read when present). Times are moved by ``offset`` seconds; blank
    segments are left out."""
    kept = []
    for segment in segments:
        text = str(segment.text).strip()
        if not text:
            continue
        kept.append(
            TranscriptSegment(
                text=text,
                start=float(segment.start) + offset,
                end=float(segment.end) + offset,
                avg_logprob=float(getattr(segment, "avg_logprob", 0.0)),
                compression_ratio=float(getattr(segment, "compression_ratio", 0.0)),
                no_speech_prob=float(getattr(segment, "no_speech_prob", 0.0)),
                temperature=float(getattr(segment, "temperature", None) or 0.0),
                tokens=tuple(int(t) for t in getattr(segment, "tokens", None) or ()),
            )
        )
    return tuple(kept)


def whisper_samples(audio: Audio) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The samples of ``audio`` as Whisper takes them (contiguous float32); ``ValueError``
    for audio that is not 16 kHz mono."""
    if audio.sample_rate != SAMPLE_RATE:
        raise ValueError(f"Whisper needs {SAMPLE_RATE} Hz audio, got {audio.sample_rate} Hz")
    if audio.samples.ndim != 1:
        raise ValueError("Whisper needs mono audio (a 1-D sample array)")
    return np.ascontiguousarray(audio.samples, dtype=np.float32)
