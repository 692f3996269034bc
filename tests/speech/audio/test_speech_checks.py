"""Voice-activity detection and loudness on real recordings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.speech.audio.conftest import Clip
from ustad.speech.audio import SILENCE_DBFS, decode_audio, detect_speech, rms_dbfs, speech_seconds
from ustad.speech.types import SAMPLE_RATE, Audio


@pytest.mark.models
def test_vad_finds_speech_in_real_clips(urdu: list[Clip], learner: Clip) -> None:
    for clip in [*urdu, learner]:
        audio = decode_audio(clip.wav)
        spans = detect_speech(audio)
        assert spans
        assert all(0.0 <= s.start < s.end <= audio.duration + 1e-6 for s in spans)
        seconds = speech_seconds(audio)
        assert 0.8 < seconds <= audio.duration
        assert seconds == pytest.approx(sum(s.duration for s in spans))


@pytest.mark.models
@pytest.mark.parametrize("level", [0.0, 0.001, 0.01, 0.03])
def test_vad_finds_no_speech_in_silence_or_noise(level: float) -> None:
    noise = np.random.default_rng(3).standard_normal(3 * SAMPLE_RATE) * level
    assert speech_seconds(Audio(noise.astype(np.float32))) == 0.0


@pytest.mark.models
def test_vad_ignores_leading_and_trailing_silence(learner: Clip) -> None:
    audio = decode_audio(learner.wav)
    pad = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    padded = Audio(np.concatenate([pad, audio.samples, pad]))
    assert speech_seconds(padded) == pytest.approx(speech_seconds(audio), abs=0.3)
    assert detect_speech(padded)[0].start > 1.9


def test_vad_needs_16k_and_handles_empty() -> None:
    with pytest.raises(ValueError, match="16000"):
        detect_speech(Audio(np.zeros(800, np.float32), sample_rate=8000))
    assert detect_speech(Audio(np.zeros(0, np.float32))) == ()


def test_rms_dbfs(reference: tuple[Clip, Audio]) -> None:
    assert rms_dbfs(Audio(np.zeros(1000, np.float32))) == SILENCE_DBFS
    assert rms_dbfs(Audio(np.zeros(0, np.float32))) == SILENCE_DBFS
    full_scale_sine = np.sin(np.arange(16_000) * 2 * math.pi * 100 / 16_000).astype(np.float32)
    assert rms_dbfs(Audio(full_scale_sine)) == pytest.approx(-3.01, abs=0.05)
    assert -40.0 < rms_dbfs(reference[1]) < -10.0
