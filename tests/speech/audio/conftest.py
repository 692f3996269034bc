"""Real recordings shared by the tests of ``ustad.speech.audio``, and how to compare audio."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

from ustad.speech.audio import decode_audio
from ustad.speech.types import Audio

if TYPE_CHECKING:
    from tests.conftest import LearnerClip, UrduClip


@dataclass(frozen=True)
class Clip:
    """A real recording as int16 samples, and its WAV bytes."""

    samples: npt.NDArray[np.int16]
    rate: int
    wav: bytes

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def read_clip(path: Path) -> Clip:
    data = path.read_bytes()
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        return Clip(samples.astype(np.int16), reader.getframerate(), data)


def envelope(samples: npt.NDArray[np.floating], rate: int) -> npt.NDArray[np.float64]:
    """RMS per 20 ms: insensitive to codec delay, phase and bandwidth."""
    hop = rate // 50
    count = len(samples) // hop
    frames = np.asarray(samples[: count * hop], dtype=np.float64).reshape(count, hop)
    return np.asarray(np.sqrt(np.mean(frames**2, axis=1)), dtype=np.float64)


def envelope_correlation(a: Audio, b: Audio) -> float:
    """Best correlation of the two loudness envelopes within +-60 ms of shift."""
    ea, eb = envelope(a.samples, a.sample_rate), envelope(b.samples, b.sample_rate)
    best = -1.0
    for shift in range(-3, 4):
        x = ea[max(0, shift) :]
        y = eb[max(0, -shift) :]
        n = min(len(x), len(y))
        best = max(best, float(np.corrcoef(x[:n], y[:n])[0, 1]))
    return best


@pytest.fixture(scope="package")
def urdu(urdu_clips: list[UrduClip]) -> list[Clip]:
    return [read_clip(clip.path) for clip in urdu_clips]


@pytest.fixture(scope="package")
def learner(learner_clips: list[LearnerClip]) -> Clip:
    """A real learner clip of about 3 s (16 kHz WAV)."""
    clips = [read_clip(clip.path) for clip in learner_clips[:40]]
    return min(clips, key=lambda clip: abs(clip.duration - 3.0))


@pytest.fixture(scope="package")
def reference(urdu: list[Clip]) -> tuple[Clip, Audio]:
    """The longer Urdu clip (32 kHz) and its decoded 16 kHz audio."""
    clip = max(urdu, key=lambda c: c.duration)
    return clip, decode_audio(clip.wav)
