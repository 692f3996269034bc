"""Speech-recognition fixtures: each real Whisper model is loaded once per session."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ustad.speech.model_paths import english_whisper_dir, multilingual_whisper_dir
from ustad.speech.types import SAMPLE_RATE, Audio
from ustad.speech.whisper import WhisperTranscriber

WavLoader = Callable[[Path], Audio]


def read_wav(path: Path) -> Audio:
    """A 16-bit PCM WAV as 16 kHz mono float32 (other rates by linear interpolation).

    Test helper only; the service decodes uploads with its own audio module.
    """
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported here")
        channels = wav.getnchannels()
        rate = wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate > SAMPLE_RATE:
        samples = _low_pass(samples, cutoff=0.5 * SAMPLE_RATE / rate)
    if rate != SAMPLE_RATE:
        count = round(len(samples) * SAMPLE_RATE / rate)
        positions = np.arange(count) * (rate / SAMPLE_RATE)
        samples = np.interp(positions, np.arange(len(samples)), samples)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32))


def _low_pass(samples: npt.NDArray[np.float32], cutoff: float) -> npt.NDArray[np.float64]:
    """Windowed-sinc filter so downsampling does not fold high frequencies into speech."""
    taps = np.arange(-32, 33)
    kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hanning(len(taps))
    return np.convolve(samples, kernel / kernel.sum(), mode="same")


@pytest.fixture(scope="session")
def load_wav() -> WavLoader:
    """``load_wav(path) -> Audio`` for the shared-data WAV files."""
    return read_wav


@pytest.fixture(scope="session")
def tiny_en() -> WhisperTranscriber:
    """The packaged English-only Whisper tiny.en."""
    return WhisperTranscriber(english_whisper_dir("packaged"), name="whisper-tiny.en")


@pytest.fixture(scope="session")
def whisper_base(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    """The packaged multilingual Whisper base, assembled into a session temp dir."""
    model_dir = multilingual_whisper_dir("packaged", tmp_path_factory.mktemp("models"))
    return WhisperTranscriber(model_dir, name="whisper-base")
