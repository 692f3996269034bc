"""What Chromium's fake microphone plays: real recordings at known offsets, looped.

Chromium's file-backed capture (``--use-file-for-fake-audio-capture``) starts the file
from the beginning whenever a capture stream opens and loops it while the stream stays
open. The page opens the microphone once, on the first press, and keeps it, so from
that moment the test knows what the learner "says" at any time: it presses record
just before a clip starts and stop just after it ends, as a person would.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

RATE = 48_000
"""Chromium's native capture rate: no resampling inside the browser."""
MARGIN = 0.7
"""Seconds of silence recorded before and after a clip (absorbs timing jitter)."""


@dataclass(frozen=True)
class Window:
    """Where one clip sits in the looped file, in seconds from its start."""

    start: float
    end: float

    def next_after(self, elapsed: float, period: float) -> tuple[float, float]:
        """Press and release times (from stream open) of the first occurrence whose
        recording can still start after ``elapsed`` seconds."""
        loop = 0
        while self.start - MARGIN + loop * period < elapsed:
            loop += 1
        offset = loop * period
        return self.start - MARGIN + offset, self.end + MARGIN + offset


@dataclass(frozen=True)
class FakeMicrophone:
    """The composed WAV and where the Urdu and English clips are in it."""

    path: Path
    period: float
    urdu: Window
    english: Window


def pcm16(path: Path) -> np.ndarray:
    """A recording as mono 16-bit samples at ``RATE``."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.int16)


def compose(
    urdu: Path, english: Path, out: Path, *, lead: float = 1.0, gap: float = 2.5
) -> FakeMicrophone:
    """Silence, the Urdu clip, silence, the English clip, silence: one loop period."""
    silence = np.zeros(int(RATE * lead), dtype=np.int16)
    pause = np.zeros(int(RATE * gap), dtype=np.int16)
    urdu_pcm, english_pcm = pcm16(urdu), pcm16(english)
    samples = np.concatenate([silence, urdu_pcm, pause, english_pcm, pause])
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(samples.tobytes())
    urdu_end = lead + len(urdu_pcm) / RATE
    english_start = urdu_end + gap
    return FakeMicrophone(
        path=out,
        period=len(samples) / RATE,
        urdu=Window(lead, urdu_end),
        english=Window(english_start, english_start + len(english_pcm) / RATE),
    )
