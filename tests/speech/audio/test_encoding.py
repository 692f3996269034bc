"""Encoding replies, resampling and joining audio."""

from __future__ import annotations

import io
import math
import wave

import av
import numpy as np
import pytest

from tests.speech.audio.conftest import Clip, envelope_correlation
from ustad.speech.audio import (
    MEDIA_TYPES,
    concatenate,
    decode_audio,
    encode_audio,
    mp3_options,
    resample_pcm,
    rms_dbfs,
)
from ustad.speech.types import Audio, Pcm


@pytest.fixture(scope="module")
def speech_pcm(reference: tuple[Clip, Audio]) -> Pcm:
    """Real speech at 22.05 kHz, the rate the synthesizers produce."""
    clip, _ = reference
    return resample_pcm(Pcm(clip.samples, clip.rate), 22_050)


MAGIC = {"mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3"), "opus": (b"OggS",), "wav": (b"RIFF",)}


@pytest.mark.parametrize("fmt", ["mp3", "opus", "wav"])
def test_encode_round_trip(fmt: str, speech_pcm: Pcm) -> None:
    data = encode_audio(speech_pcm, fmt)  # type: ignore[arg-type]
    assert data.startswith(MAGIC[fmt])
    assert fmt in MEDIA_TYPES
    back = decode_audio(data, format_hint=fmt)
    assert back.duration == pytest.approx(speech_pcm.duration, abs=0.08)
    original = Audio((speech_pcm.samples / 32768).astype(np.float32), speech_pcm.sample_rate)
    assert envelope_correlation(back, original) > 0.95
    assert rms_dbfs(back) == pytest.approx(rms_dbfs(original), abs=1.5)


def test_encoded_formats_are_mono_at_the_expected_rate(speech_pcm: Pcm) -> None:
    for fmt, rate in [("mp3", 22_050), ("opus", 48_000), ("wav", 22_050)]:
        with av.open(io.BytesIO(encode_audio(speech_pcm, fmt))) as container:  # type: ignore[arg-type]
            stream = container.streams.audio[0]
            assert (stream.rate, stream.channels) == (rate, 1), fmt


MP3_FRAME_SECONDS = 576 / 22_050
"""One MPEG-2 Layer III frame at 22.05 kHz."""


@pytest.mark.parametrize("quality", [None, 0, 3, 7, 9])
def test_every_mp3_quality_decodes_to_the_same_speech(speech_pcm: Pcm, quality: int | None) -> None:
    data = encode_audio(speech_pcm, "mp3", mp3_quality=quality)
    back = decode_audio(data, format_hint="mp3", sample_rate=22_050)
    assert back.duration == pytest.approx(speech_pcm.duration, abs=MP3_FRAME_SECONDS)
    original = Audio((speech_pcm.samples / 32768).astype(np.float32), speech_pcm.sample_rate)
    assert envelope_correlation(back, original) > 0.95
    assert rms_dbfs(back) == pytest.approx(rms_dbfs(original), abs=1.5)
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.audio[0].rate == 22_050  # Piper's rate, not resampled


def test_mp3_quality_reaches_the_encoder(speech_pcm: Pcm) -> None:
    default = encode_audio(speech_pcm, "mp3")
    assert encode_audio(speech_pcm, "mp3", mp3_quality=3) == default  # LAME's own default
    assert encode_audio(speech_pcm, "mp3", mp3_quality=9) != default
    assert encode_audio(speech_pcm, "mp3", mp3_quality=0) != default


@pytest.mark.parametrize("quality", [-1, 10])
def test_an_mp3_quality_outside_lame_range_is_refused(speech_pcm: Pcm, quality: int) -> None:
    with pytest.raises(ValueError, match="mp3 quality"):
        encode_audio(speech_pcm, "mp3", mp3_quality=quality)
    assert mp3_options(7) == {"compression_level": "7"} and mp3_options(None) == {}


def test_bitrate_controls_size(speech_pcm: Pcm) -> None:
    assert len(encode_audio(speech_pcm, "mp3", bitrate=32_000)) < 0.6 * len(
        encode_audio(speech_pcm, "mp3", bitrate=96_000)
    )
    assert len(encode_audio(speech_pcm, "opus", bitrate=16_000)) < 0.6 * len(
        encode_audio(speech_pcm, "opus", bitrate=48_000)
    )
    # Speech-sized replies: a few seconds of 64 kbit/s MP3 stays well under 100 kB.
    assert len(encode_audio(speech_pcm, "mp3")) < 64_000 / 8 * (speech_pcm.duration + 1)


def test_mp3_at_a_rate_lame_lacks_is_resampled() -> None:
    pcm = Pcm((np.sin(np.arange(7_000) * 0.1) * 8000).astype(np.int16), 7_000)
    back = decode_audio(encode_audio(pcm, "mp3"))
    assert back.duration == pytest.approx(1.0, abs=0.08)


def test_wav_round_trip_is_exact(speech_pcm: Pcm) -> None:
    with wave.open(io.BytesIO(encode_audio(speech_pcm, "wav"))) as reader:
        assert reader.getframerate() == speech_pcm.sample_rate
        assert reader.getnchannels() == 1
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    np.testing.assert_array_equal(frames, speech_pcm.samples)


def test_encode_rejects_unknown_format(speech_pcm: Pcm) -> None:
    with pytest.raises(ValueError, match="unknown audio format"):
        encode_audio(speech_pcm, "aiff")  # type: ignore[arg-type]


# ---------------------------------------------------------------- resampling and joining


def sine(freq: float, seconds: float, rate: int) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm((np.sin(2 * math.pi * freq * t) * 10_000).astype(np.int16), rate)


def peak_frequency(pcm: Pcm) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.samples.astype(np.float64)))
    return float(np.argmax(spectrum) * pcm.sample_rate / len(pcm.samples))


def test_resample_keeps_pitch_and_length() -> None:
    tone = sine(440.0, 1.0, 16_000)
    out = resample_pcm(tone, 22_050)
    assert out.sample_rate == 22_050
    assert len(out.samples) == pytest.approx(22_050, abs=40)
    assert peak_frequency(out) == pytest.approx(440.0, abs=2.0)
    np.testing.assert_array_equal(resample_pcm(tone, 16_000).samples, tone.samples)


def test_concatenate_resamples_and_inserts_gaps() -> None:
    a = sine(300.0, 0.5, 22_050)
    b = sine(500.0, 0.4, 16_000)  # a part at another rate
    joined = concatenate(
        [a, Pcm(np.zeros(0, np.int16), 22_050), b], sample_rate=22_050, gap_seconds=0.1
    )
    gap = round(0.1 * 22_050)
    assert joined.sample_rate == 22_050
    assert len(joined.samples) == pytest.approx(len(a.samples) + gap + 0.4 * 22_050, abs=40)
    # One gap only (the empty part adds none), and it is silent.
    np.testing.assert_array_equal(joined.samples[len(a.samples) : len(a.samples) + gap], 0)
    np.testing.assert_array_equal(joined.samples[: len(a.samples)], a.samples)
    tail = Pcm(joined.samples[len(a.samples) + gap :], 22_050)
    assert peak_frequency(tail) == pytest.approx(500.0, abs=4.0)


def test_concatenate_nothing_is_empty() -> None:
    assert len(concatenate([], sample_rate=22_050, gap_seconds=0.1).samples) == 0
    with pytest.raises(ValueError, match="gap_seconds"):
        concatenate([sine(300, 0.1, 8000)], sample_rate=8000, gap_seconds=-1)
