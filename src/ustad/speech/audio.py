"""Decoding uploaded audio, encoding spoken replies, and cheap speech checks.

Everything goes through PyAV (FFmpeg), which reads whatever a phone or browser records
(WAV, WebM/Opus, Ogg/Opus, MP3, M4A/AAC, FLAC) at any rate and channel count. Decoded
audio is always mono float32 at 16 kHz, the rate the recognisers expect.
"""

from __future__ import annotations

import io
import logging
import math
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import av
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from faster_whisper.vad import VadOptions, get_speech_timestamps

from ustad.speech.containers import ALLOWED_DEMUXERS, demuxer_for_hint, sniff_container
from ustad.speech.types import SAMPLE_RATE, Audio, Pcm

__all__ = [
    "MEDIA_TYPES",
    "MP3_QUALITIES",
    "SILENCE_DBFS",
    "AudioDecodeError",
    "AudioTooLongError",
    "EncodedFormat",
    "SpeechSpan",
    "concatenate",
    "decode_audio",
    "detect_speech",
    "encode_audio",
    "mp3_options",
    "resample_pcm",
    "rms_dbfs",
    "speech_seconds",
    "supported_rate",
]

_LOG = logging.getLogger(__name__)

EncodedFormat = Literal["mp3", "opus", "wav"]

MEDIA_TYPES: Final = {"mp3": "audio/mpeg", "opus": "audio/ogg", "wav": "audio/wav"}
"""HTTP media type of each encoded format."""

SILENCE_DBFS: Final = -120.0
"""What :func:`rms_dbfs` reports for digital silence (instead of minus infinity)."""

_DEFAULT_BITRATES: Final = {"mp3": 64_000, "opus": 32_000}

MP3_QUALITIES: Final = range(10)
"""LAME's algorithm quality (``lame -q``): 0 is the slowest and most careful, 9 the
fastest; LAME's own default is 3. Unrelated to the bitrate, which sets the size."""
_OPUS_RATE: Final = 48_000

# Every FFmpeg or decoding failure we translate into AudioDecodeError. ValueError covers
# PyAV's own argument errors and metadata that is not valid UTF-8.
_DECODE_FAILURES: Final = (av.FFmpegError, ValueError, OSError, EOFError)


class AudioDecodeError(ValueError):
    """The bytes are not audio we can decode (empty, corrupt, no audio stream, no samples)."""


class AudioTooLongError(ValueError):
    """The audio is longer than the accepted limit."""

    def __init__(self, seconds: float, limit: float) -> None:
        super().__init__(f"audio is longer than {limit:g} s (at least {seconds:.1f} s)")
        self.seconds = seconds
        """Length found so far: decoding stops at the limit, so this is a lower bound."""
        self.limit = limit


# --------------------------------------------------------------------------- decoding


def decode_audio(
    data: bytes,
    *,
    max_seconds: float | None = None,
    format_hint: str | None = None,
    sample_rate: int = SAMPLE_RATE,
) -> Audio:
    """Decode one utterance to mono float32 at ``sample_rate`` (Hz; 16 kHz, what the
    recognisers take, unless asked otherwise: a remote voice's speech keeps its own).

    Only the containers in ``ALLOWED_DEMUXERS`` are ever opened. ``format_hint``
    (``"webm"``, ``"mp3"``, a MIME type such as ``"audio/webm;codecs=opus"`` ...) is tried
    first; when it is wrong, unknown or not allowed, the container is recognised from
    its first bytes (``sniff_container``), never by FFmpeg's probe over all demuxers.
    Decoding stops as soon as ``max_seconds`` is exceeded, so a huge upload costs no
    more than the limit.

    Raises:
        AudioDecodeError: empty or corrupt bytes, an unsupported container, no audio
            stream, or no samples.
        AudioTooLongError: more than ``max_seconds`` of audio.
        ValueError: a ``sample_rate`` that is not positive.
    """
    if sample_rate <= 0:
        raise ValueError(f"invalid sample rate {sample_rate}")
    if not data:
        raise AudioDecodeError("no audio data (0 bytes)")
    max_samples = None if max_seconds is None else math.floor(max_seconds * sample_rate)

    demuxer = demuxer_for_hint(format_hint)
    if demuxer is not None:
        try:
            samples = _decode(data, demuxer, max_samples, sample_rate, strict=True)
        except AudioDecodeError as error:
            _LOG.debug("format hint %r did not decode (%s); sniffing instead", format_hint, error)
        else:
            return Audio(samples, sample_rate)
    sniffed = sniff_container(data)
    if sniffed is None:
        raise AudioDecodeError(
            "not a supported audio container (WAV, WebM or Ogg with Opus, MP3, M4A/AAC, FLAC)"
        )
    return Audio(_decode(data, sniffed, max_samples, sample_rate, strict=False), sample_rate)


def _decode(
    data: bytes, demuxer: str, max_samples: int | None, rate: int, *, strict: bool
) -> npt.NDArray[np.float32]:
    """Decode with one allowed demuxer.

    With ``strict`` any error fails the attempt; otherwise an error after some audio has
    been decoded keeps that audio (a recording cut off mid-packet is still usable).
    """
    if demuxer not in ALLOWED_DEMUXERS:
        raise ValueError(f"demuxer {demuxer!r} is not allowed")
    chunks: list[npt.NDArray[np.float32]] = []
    decoded = 0
    try:
        with av.open(
            io.BytesIO(data), mode="r", format=demuxer, metadata_errors="ignore"
        ) as container:
            if not container.streams.audio:
                raise AudioDecodeError("the file has no audio stream")
            stream = container.streams.audio[0]
            try:
                for chunk in _resampled_chunks(container.decode(stream), rate):
                    chunks.append(chunk)
                    decoded += len(chunk)
                    if max_samples is not None and decoded > max_samples:
                        raise AudioTooLongError(
                            max(decoded / rate, _declared_seconds(stream)),
                            max_samples / rate,
                        )
            except (AudioDecodeError, AudioTooLongError):
                raise
            except _DECODE_FAILURES as error:
                if strict or decoded == 0:
                    raise AudioDecodeError(f"could not decode the audio: {error}") from error
                _LOG.warning(
                    "audio damaged after %.2f s, using what decoded: %s",
                    decoded / rate,
                    error,
                )
    except (AudioDecodeError, AudioTooLongError):
        raise
    except _DECODE_FAILURES as error:
        raise AudioDecodeError(f"not a readable audio file: {error}") from error

    if decoded == 0:
        raise AudioDecodeError("the file holds no audio samples")
    samples = np.concatenate(chunks)
    # Lossy decoders can overshoot full scale slightly; Audio promises [-1, 1].
    np.clip(samples, -1.0, 1.0, out=samples)
    return samples


def _resampled_chunks(frames: Iterator[AudioFrame], rate: int) -> Iterator[npt.NDArray[np.float32]]:
    """Mono float32 sample chunks at ``rate`` (Hz) for decoded frames of any format.

    A stream may change rate or channel layout midway (AAC with SBR, spliced WebM);
    PyAV's resampler refuses such frames, so a new one is started for each change.
    """
    resampler: AudioResampler | None = None
    shape: tuple[str, str, int] | None = None
    for frame in frames:
        frame_shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if resampler is None or frame_shape != shape:
            if resampler is not None:
                yield from _frames_to_arrays(resampler.resample(None))
            resampler = AudioResampler(format="flt", layout="mono", rate=rate)
            shape = frame_shape
        yield from _frames_to_arrays(resampler.resample(frame))
    if resampler is not None:
        yield from _frames_to_arrays(resampler.resample(None))


def _frames_to_arrays(frames: list[AudioFrame]) -> Iterator[npt.NDArray[np.float32]]:
    for frame in frames:
        # Packed mono "flt" comes out as shape (1, n).
        yield np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)


def _declared_seconds(stream: AudioStream) -> float:
    """Length the container declares for a stream (0 when unknown, as in browser WebM)."""
    if stream.duration is None or stream.time_base is None:
        return 0.0
    return float(stream.duration * stream.time_base)


# --------------------------------------------------------------------------- encoding


def encode_audio(
    pcm: Pcm, fmt: EncodedFormat, *, bitrate: int | None = None, mp3_quality: int | None = None
) -> bytes:
    """Encode mono speech as MP3, Opus in Ogg (always 48 kHz) or 16-bit WAV.

    ``bitrate`` (bit/s) applies to MP3 and Opus; the defaults suit speech
    (64 kbit/s MP3, 32 kbit/s Opus). ``mp3_quality`` is LAME's algorithm quality
    (:data:`MP3_QUALITIES`, 0 slowest to 9 fastest; ``None``: LAME's default, 3); other
    formats ignore it. MP3 is written at the PCM's own rate when LAME takes it (8 to
    48 kHz, Piper's 22.05 kHz among them).

    Raises:
        ValueError: stereo samples, a rate that is not positive, an unknown format or an
            ``mp3_quality`` outside 0-9.
        RuntimeError: the encoder failed.
    """
    options = mp3_options(mp3_quality)
    samples = _mono_int16(pcm)
    if fmt == "wav":
        return _encode_wav(samples, pcm.sample_rate)
    if fmt == "mp3":
        return _encode_with_av(
            samples,
            pcm.sample_rate,
            container="mp3",
            codec="libmp3lame",
            rate=supported_rate("libmp3lame", pcm.sample_rate),
            bitrate=bitrate or _DEFAULT_BITRATES["mp3"],
            options=options,
        )
    if fmt == "opus":
        return _encode_with_av(
            samples,
            pcm.sample_rate,
            container="ogg",
            codec="libopus",
            rate=_OPUS_RATE,
            bitrate=bitrate or _DEFAULT_BITRATES["opus"],
        )
    raise ValueError(f"unknown audio format {fmt!r}; expected one of {sorted(MEDIA_TYPES)}")


def mp3_options(quality: int | None) -> dict[str, str]:
    """FFmpeg encoder options for libmp3lame at LAME quality ``quality`` (``None``: none,
    LAME's default). Raises ``ValueError`` for a quality outside :data:`MP3_QUALITIES`."""
    if quality is None:
        return {}
    if quality not in MP3_QUALITIES:
        raise ValueError(f"mp3 quality must be 0-9 (LAME -q), got {quality}")
    # FFmpeg hands compression_level to lame_set_quality.
    return {"compression_level": str(quality)}


def _mono_int16(pcm: Pcm) -> npt.NDArray[np.int16]:
    if pcm.samples.ndim != 1:
        raise ValueError(f"expected mono samples, got shape {pcm.samples.shape}")
    if pcm.sample_rate <= 0:
        raise ValueError(f"invalid sample rate {pcm.sample_rate}")
    return np.ascontiguousarray(pcm.samples, dtype=np.int16)


def _encode_wav(samples: npt.NDArray[np.int16], rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2", copy=False).tobytes())
    return buffer.getvalue()


def supported_rate(codec: str, rate: int) -> int:
    """``rate`` (Hz) if the FFmpeg encoder ``codec`` takes it, else the nearest rate above
    it (or its highest); shared by the whole-reply, streaming and MP3-piece encoders."""
    rates = av.Codec(codec, "w").audio_rates
    if not rates or rate in rates:
        return rate
    higher = [r for r in rates if r > rate]
    return min(higher) if higher else max(rates)


def _encode_with_av(
    samples: npt.NDArray[np.int16],
    input_rate: int,
    *,
    container: str,
    codec: str,
    rate: int,
    bitrate: int,
    options: dict[str, str] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    try:
        with av.open(buffer, mode="w", format=container) as output:
            stream = output.add_stream(codec, rate=rate, layout="mono", options=options or {})
            if not isinstance(stream, AudioStream):  # narrows the type; codec is ours
                raise TypeError(f"{codec} is not an audio encoder")
            stream.bit_rate = bitrate
            if len(samples):
                frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate = input_rate
                # The encoder converts format and rate and cuts frames to its frame size.
                for packet in stream.encode(frame):
                    output.mux(packet)
            for packet in stream.encode(None):
                output.mux(packet)
    except av.FFmpegError as error:
        raise RuntimeError(f"{codec} could not encode the audio: {error}") from error
    return buffer.getvalue()


# ----------------------------------------------------------------- joining and resampling


def resample_pcm(pcm: Pcm, sample_rate: int) -> Pcm:
    """``pcm`` at ``sample_rate`` (FFmpeg's resampler; unchanged if already at that rate)."""
    samples = _mono_int16(pcm)
    if pcm.sample_rate == sample_rate or len(samples) == 0:
        return Pcm(samples, sample_rate)
    resampler = AudioResampler(format="s16", layout="mono", rate=sample_rate)
    frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = pcm.sample_rate
    out = resampler.resample(frame) + resampler.resample(None)
    parts = [np.asarray(f.to_ndarray(), dtype=np.int16).reshape(-1) for f in out]
    joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    return Pcm(joined, sample_rate)


def concatenate(parts: Sequence[Pcm], *, sample_rate: int, gap_seconds: float) -> Pcm:
    """Join parts (resampled to ``sample_rate``) with ``gap_seconds`` of silence between.

    Empty parts are skipped so they add no extra gaps.
    """
    if sample_rate <= 0:
        raise ValueError(f"invalid sample rate {sample_rate}")
    if gap_seconds < 0:
        raise ValueError(f"gap_seconds must be >= 0, got {gap_seconds}")
    gap = np.zeros(round(gap_seconds * sample_rate), dtype=np.int16)
    pieces: list[npt.NDArray[np.int16]] = []
    for part in parts:
        if len(part.samples) == 0:
            continue
        if pieces:
            pieces.append(gap)
        pieces.append(resample_pcm(part, sample_rate).samples)
    if not pieces:
        return Pcm(np.zeros(0, dtype=np.int16), sample_rate)
    return Pcm(np.concatenate(pieces), sample_rate)


# --------------------------------------------------------------------------- speech checks


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of detected speech, in seconds from the start of the audio."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


# Tighter than faster-whisper's transcription defaults (2 s silence, 400 ms padding):
# here the spans are summed, so padding and bridged pauses would inflate the total.
_VAD_OPTIONS: Final = VadOptions(
    threshold=0.5,
    min_speech_duration_ms=100,
    min_silence_duration_ms=300,
    speech_pad_ms=30,
)


def detect_speech(audio: Audio) -> tuple[SpeechSpan, ...]:
    """Speech stretches found by Silero VAD (the ONNX model packaged with faster-whisper).

    The model is loaded once per process by faster-whisper and is safe to call from
    several threads.
    """
    if audio.sample_rate != SAMPLE_RATE:
        raise ValueError(f"speech detection needs {SAMPLE_RATE} Hz audio, got {audio.sample_rate}")
    if len(audio.samples) == 0:
        return ()
    samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
    stamps = get_speech_timestamps(samples, _VAD_OPTIONS, sampling_rate=SAMPLE_RATE)
    return tuple(
        SpeechSpan(stamp["start"] / SAMPLE_RATE, stamp["end"] / SAMPLE_RATE) for stamp in stamps
    )


def speech_seconds(audio: Audio) -> float:
    """Seconds of detected speech (0.0 for silence or noise)."""
    return sum(span.duration for span in detect_speech(audio))


def rms_dbfs(audio: Audio) -> float:
    """Loudness as RMS in dB relative to full scale; :data:`SILENCE_DBFS` for silence."""
    if len(audio.samples) == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(np.square(audio.samples, dtype=np.float64))))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms))
