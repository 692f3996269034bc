"""Decoding real recordings as phones and browsers send them, and refusing bad input."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt
import pytest

from tests.speech.audio.conftest import Clip, envelope_correlation
from ustad.speech.audio import AudioDecodeError, AudioTooLongError, decode_audio, rms_dbfs
from ustad.speech.types import SAMPLE_RATE, Audio


def encode_variant(
    clip: Clip,
    *,
    container: str,
    codec: str,
    rate: int,
    layout: str = "mono",
    options: dict[str, str] | None = None,
) -> bytes:
    """The clip re-encoded with PyAV as a phone or browser might send it."""
    samples = clip.samples
    if layout == "stereo":
        # Right channel a little quieter so the downmix is not a plain copy.
        right = (samples.astype(np.float32) * 0.5).astype(np.int16)
        samples = np.stack([samples, right], axis=1).reshape(1, -1)
    else:
        samples = samples.reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container, options=options or {}) as output:
        stream = output.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="s16", layout=layout
        )
        frame.sample_rate = clip.rate
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def wav_bytes(samples: npt.NDArray[np.int16], rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def test_urdu_clips_decode_to_16k_mono_float(urdu: list[Clip]) -> None:
    assert {clip.rate for clip in urdu} == {32_000}  # the odd-rate case this covers
    for clip in urdu:
        audio = decode_audio(clip.wav)
        assert audio.sample_rate == SAMPLE_RATE
        assert audio.samples.dtype == np.float32
        assert audio.samples.ndim == 1
        assert audio.duration == pytest.approx(clip.duration, abs=0.002)
        assert float(np.max(np.abs(audio.samples))) <= 1.0
        # Same waveform: 32 kHz reference averaged in pairs is a crude 16 kHz version.
        crude = clip.samples[: len(clip.samples) // 2 * 2].reshape(-1, 2).mean(axis=1) / 32768
        n = min(len(crude), len(audio.samples))
        assert np.corrcoef(crude[:n], audio.samples[:n])[0, 1] > 0.95


def test_16k_wav_decodes_sample_exact(learner: Clip) -> None:
    audio = decode_audio(learner.wav)
    assert learner.rate == SAMPLE_RATE
    np.testing.assert_allclose(audio.samples, learner.samples / 32768.0, atol=1e-6)


VARIANTS = {
    # Chrome/Firefox MediaRecorder: WebM/Opus written live, so no duration and no cues.
    "webm-opus-live": dict(container="webm", codec="libopus", rate=48_000, options={"live": "1"}),
    "ogg-opus": dict(container="ogg", codec="libopus", rate=48_000),
    "mp3-44k": dict(container="mp3", codec="libmp3lame", rate=44_100),
    "m4a-aac": dict(container="ipod", codec="aac", rate=44_100),
    # Safari's MediaRecorder: fragmented MP4, the index up front and data in fragments.
    "mp4-aac-fragmented": dict(
        container="mp4",
        codec="aac",
        rate=48_000,
        options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    ),
    "wav-stereo-44k": dict(container="wav", codec="pcm_s16le", rate=44_100, layout="stereo"),
    "wav-8k": dict(container="wav", codec="pcm_s16le", rate=8_000),
    "flac-stereo-22k": dict(container="flac", codec="flac", rate=22_050, layout="stereo"),
    "mp3-stereo-48k": dict(container="mp3", codec="libmp3lame", rate=48_000, layout="stereo"),
}
HINTS = {
    "webm-opus-live": "audio/webm;codecs=opus",
    "ogg-opus": "ogg",
    "mp3-44k": "mp3",
    "m4a-aac": "m4a",
    "mp4-aac-fragmented": "audio/mp4",
    "wav-stereo-44k": "wav",
    "wav-8k": "audio/wav",
    "flac-stereo-22k": "flac",
    "mp3-stereo-48k": ".mp3",
}


@pytest.fixture(scope="module")
def variants(reference: tuple[Clip, Audio]) -> dict[str, bytes]:
    clip, _ = reference
    return {name: encode_variant(clip, **spec) for name, spec in VARIANTS.items()}  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("hint", ["none", "right", "wrong"])
def test_decodes_what_phones_and_browsers_send(
    name: str, hint: str, variants: dict[str, bytes], reference: tuple[Clip, Audio]
) -> None:
    clip, expected = reference
    format_hint = {
        "none": None,
        "right": HINTS[name],
        "wrong": "mp3" if "mp3" not in name else "ogg",
    }[hint]
    audio = decode_audio(variants[name], format_hint=format_hint)

    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.dtype == np.float32
    # Codecs add priming and padding, never more than a few frames.
    assert audio.duration == pytest.approx(clip.duration, abs=0.08)
    assert envelope_correlation(audio, expected) > 0.95
    # The stereo variants are a full and a half-level channel; their mono mix sits
    # between the two, so within 6 dB of the original.
    assert rms_dbfs(audio) == pytest.approx(
        rms_dbfs(expected), abs=6.0 if "stereo" in name else 1.5
    )


def test_browser_webm_has_no_declared_duration(variants: dict[str, bytes]) -> None:
    """Guard that the WebM variant really is the hard case (unknown length)."""
    with av.open(io.BytesIO(variants["webm-opus-live"]), mode="r") as container:
        assert container.duration is None
        assert container.streams.audio[0].duration is None


def test_unknown_hint_is_ignored(reference: tuple[Clip, Audio]) -> None:
    clip, expected = reference
    audio = decode_audio(clip.wav, format_hint="application/x-nonsense")
    assert len(audio.samples) == len(expected.samples)


@pytest.mark.parametrize(
    "name", ["ogg-opus", "flac-stereo-22k", "webm-opus-live", "mp4-aac-fragmented"]
)
def test_truncated_recording_keeps_what_decoded(name: str, variants: dict[str, bytes]) -> None:
    """A recording cut off mid-upload still gives its first part (FLAC fails mid-frame)."""
    data = variants[name]
    full = decode_audio(data)
    half = decode_audio(data[: len(data) // 2])
    assert 0.25 * full.duration < half.duration < 0.75 * full.duration


def test_rate_and_channel_changes_midway(reference: tuple[Clip, Audio]) -> None:
    """Two MP3s joined (44.1 kHz mono, then 22.05 kHz stereo) decode as one utterance."""
    clip, expected = reference
    bare = {"write_xing": "0", "id3v2_version": "0"}  # raw frames only, so they splice
    first = encode_variant(clip, container="mp3", codec="libmp3lame", rate=44_100, options=bare)
    second = encode_variant(
        clip, container="mp3", codec="libmp3lame", rate=22_050, layout="stereo", options=bare
    )
    with av.open(io.BytesIO(first + second), mode="r") as container:
        rates = {frame.sample_rate for frame in container.decode(audio=0)}
    assert rates == {44_100, 22_050}  # the case PyAV's resampler alone refuses
    audio = decode_audio(first + second)
    assert audio.duration == pytest.approx(2 * clip.duration, abs=0.15)
    half = len(audio.samples) // 2
    assert envelope_correlation(Audio(audio.samples[half:]), expected) > 0.9


def video_only_mp4() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(5):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), index * 40, dtype=np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


BAD_INPUTS: dict[str, Callable[[Clip], bytes]] = {
    "empty": lambda clip: b"",
    "random-bytes": lambda clip: np.random.default_rng(7).bytes(20_000),
    "text-file": lambda clip: b'{"audio_base64": "not audio at all"}\n' * 50,
    "wav-header-only": lambda clip: clip.wav[:44],
    "truncated-to-100-bytes": lambda clip: clip.wav[:100],
    "zero-sample-wav": lambda clip: wav_bytes(np.zeros(0, dtype=np.int16), 16_000),
    "video-only-mp4": lambda clip: video_only_mp4(),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("format_hint", [None, "webm"])
def test_bad_input_raises_decode_error(
    name: str, format_hint: str | None, reference: tuple[Clip, Audio]
) -> None:
    data = BAD_INPUTS[name](reference[0])
    with pytest.raises(AudioDecodeError) as caught:
        decode_audio(data, format_hint=format_hint)
    assert str(caught.value)
    assert not isinstance(caught.value, av.FFmpegError)


def test_video_only_file_says_no_audio_stream() -> None:
    with pytest.raises(AudioDecodeError, match="no audio stream"):
        decode_audio(video_only_mp4())


def test_too_long_raises_with_seconds_and_limit(reference: tuple[Clip, Audio]) -> None:
    clip, _ = reference
    with pytest.raises(AudioTooLongError) as caught:
        decode_audio(clip.wav, max_seconds=2.0)
    assert caught.value.limit == 2.0
    assert caught.value.seconds == pytest.approx(clip.duration, abs=0.01)  # WAV declares it
    assert isinstance(caught.value, ValueError)
    # Exactly at the limit is fine.
    assert decode_audio(clip.wav, max_seconds=clip.duration + 0.01).duration > 5


def test_too_long_stops_early_without_a_declared_length(reference: tuple[Clip, Audio]) -> None:
    """A long live WebM is refused after decoding about the limit, not the whole file."""
    clip, _ = reference
    looped = Clip(np.tile(clip.samples, 8), clip.rate, b"")  # ~44 s
    data = encode_variant(
        looped, container="webm", codec="libopus", rate=48_000, options={"live": "1"}
    )
    with pytest.raises(AudioTooLongError) as caught:
        decode_audio(data, max_seconds=3.0, format_hint="webm")
    assert 3.0 < caught.value.seconds < 4.0
