"""Encoding speech piece by piece, so the first bytes go out before the last are said.

``StreamEncoder`` takes synthesised PCM pieces in order and hands back whatever encoded
bytes each piece completes: a client can start playing after the first sentence. Every
format is one that can be written front to back without seeking back to patch a
header: MP3, Opus in Ogg, AAC in ADTS frames and FLAC through PyAV (FFmpeg's encoders
and muxers, no subprocess), and raw 16-bit little-endian PCM. WAV is streamed as
OpenAI streams it: a header whose RIFF and data sizes say "unknown" (0xFFFFFFFF,
``wav_header(rate, None)``), then the samples as each piece is said. Readers that
stream (FFmpeg/PyAV, browsers, soundfile) read such a file to its end; Python's
``wave`` takes the sizes at their word, and reads the whole stream only because a
read stops at the end of the data anyway.
"""

from __future__ import annotations

import contextlib
import struct
import threading
from dataclasses import dataclass
from typing import Final, Literal

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer

from ustad.speech.audio import mp3_options, resample_pcm, supported_rate
from ustad.speech.types import Pcm

__all__ = [
    "PCM_RATE",
    "STREAM_MEDIA_TYPES",
    "StreamEncoder",
    "StreamFormat",
    "silence",
    "wav_header",
]

StreamFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

STREAM_MEDIA_TYPES: Final[dict[StreamFormat, str]] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
"""HTTP media type of each streamed format."""

PCM_RATE: Final = 24_000
"""Rate of ``pcm`` output: raw 24 kHz 16-bit little-endian mono, as OpenAI sends it."""
OPUS_RATE: Final = 48_000
"""Opus always runs at 48 kHz."""


@dataclass(frozen=True)
class _Codec:
    container: str
    codec: str
    default_bitrate: int | None


_CODECS: Final[dict[str, _Codec]] = {
    "mp3": _Codec("mp3", "libmp3lame", 64_000),
    "opus": _Codec("ogg", "libopus", 32_000),
    "aac": _Codec("adts", "aac", 64_000),
    "flac": _Codec("flac", "flac", None),
}


class _Sink:
    """A write-only file for PyAV: with no ``seek`` the muxer writes strictly forward."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        """The bytes written since the last call."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def wav_header(sample_rate: int, data_bytes: int | None = None) -> bytes:
    """A 44-byte 16-bit mono PCM WAV header for ``data_bytes`` of samples; ``None``
    writes 0xFFFFFFFF as the RIFF and data sizes (length unknown: read to the end)."""
    unknown = 0xFFFFFFFF
    data_size = unknown if data_bytes is None else data_bytes
    riff_size = unknown if data_bytes is None else 36 + data_bytes
    fmt_chunk = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt_chunk))
        + fmt_chunk
        + b"data"
        + struct.pack("<I", data_size)
    )


class StreamEncoder:
    """Encodes mono speech pieces, in order, into one stream of ``fmt``.

    ``sample_rate`` is the rate written for MP3, AAC, FLAC and WAV (the nearest the
    encoder takes); Opus is always 48 kHz and ``pcm`` always :data:`PCM_RATE`.
    ``bitrate`` (bit/s) applies to MP3, Opus and AAC; ``mp3_quality`` is LAME's
    algorithm quality for MP3 (0 slowest to 9 fastest, ``None``: LAME's default, 3).
    Call :meth:`add` for each piece and :meth:`finish` once; both return the encoded
    bytes that became ready (possibly none: Ogg, for one, holds packets until a page is
    full). A WAV stream's first bytes are its open-length header
    (``wav_header(rate, None)``). Calls are serialised by a lock; they block (run them
    off the event loop).

    Raises:
        ValueError: an unknown format, a sample rate that is not positive or an
            ``mp3_quality`` outside 0-9.
        RuntimeError: the encoder failed.
    """

    def __init__(
        self,
        fmt: StreamFormat,
        *,
        sample_rate: int,
        bitrate: int | None = None,
        mp3_quality: int | None = None,
    ) -> None:
        options = mp3_options(mp3_quality) if fmt == "mp3" else {}
        if sample_rate <= 0:
            raise ValueError(f"invalid sample rate {sample_rate}")
        if fmt not in STREAM_MEDIA_TYPES:
            raise ValueError(f"unknown stream format {fmt!r}")
        self.format: StreamFormat = fmt
        self.media_type = STREAM_MEDIA_TYPES[fmt]
        self._sink = _Sink()
        self._output: OutputContainer | None = None
        self._stream: AudioStream | None = None
        self._finished = False
        self._header_sent = False
        """Whether a WAV stream's header has gone out (with the first bytes)."""
        self._lock = threading.Lock()
        if fmt == "pcm":
            self.sample_rate = PCM_RATE
        elif fmt == "wav":
            self.sample_rate = sample_rate
        else:
            codec = _CODECS[fmt]
            rate = OPUS_RATE if fmt == "opus" else supported_rate(codec.codec, sample_rate)
            self.sample_rate = rate
            self._open(codec, rate, bitrate or codec.default_bitrate, options)

    def _open(self, codec: _Codec, rate: int, bitrate: int | None, options: dict[str, str]) -> None:
        try:
            output = av.open(self._sink, mode="w", format=codec.container)
            stream = output.add_stream(codec.codec, rate=rate, layout="mono", options=options)
        except av.FFmpegError as error:
            raise RuntimeError(f"{codec.codec} could not start: {error}") from error
        if not isinstance(stream, AudioStream):  # narrows the type; the codec is ours
            raise TypeError(f"{codec.codec} is not an audio encoder")
        if bitrate is not None:
            stream.bit_rate = bitrate
        self._output, self._stream = output, stream

    def add(self, pcm: Pcm) -> bytes:
        """Encode one piece (any rate; resampled to the output rate); returns the bytes
        ready so far. Raises ``RuntimeError`` after :meth:`finish` or on encoder failure."""
        with self._lock:
            return self._add(pcm)

    def _add(self, pcm: Pcm) -> bytes:
        if self._finished:
            raise RuntimeError("the stream is finished")
        samples = resample_pcm(pcm, self.sample_rate).samples
        if len(samples) == 0:
            return b""
        if self._output is None or self._stream is None:  # wav or pcm: the samples as they are
            raw = samples.astype("<i2", copy=False).tobytes()
            return self._wav_start() + raw if self.format == "wav" else raw
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        try:
            # The encoder converts the sample format and cuts frames to its frame size,
            # keeping what is left over for the next piece.
            for packet in self._stream.encode(frame):
                self._output.mux(packet)
        except av.FFmpegError as error:
            raise RuntimeError(f"could not encode {self.format}: {error}") from error
        return self._sink.take()

    def _wav_start(self) -> bytes:
        """The WAV header the first time, nothing after."""
        if self._header_sent:
            return b""
        self._header_sent = True
        return wav_header(self.sample_rate, None)

    def finish(self) -> bytes:
        """Flush the encoder and close the container; returns the last bytes."""
        with self._lock:
            return self._finish()

    def _finish(self) -> bytes:
        if self._finished:
            return b""
        self._finished = True
        if self.format == "wav":
            return self._wav_start()  # a stream with no samples is still a WAV file
        if self._output is None or self._stream is None:
            return b""
        try:
            for packet in self._stream.encode(None):
                self._output.mux(packet)
            self._output.close()
        except av.FFmpegError as error:
            raise RuntimeError(f"could not finish {self.format}: {error}") from error
        return self._sink.take()

    def close(self) -> None:
        """Release the encoder without finishing the stream (a client that went away)."""
        with self._lock:
            if self._output is None or self._finished:
                self._finished = True
                return
            self._finished = True
            # An unfinished stream may fail to write its trailer: nobody reads it.
            with contextlib.suppress(av.FFmpegError):
                self._output.close()


def silence(seconds: float, sample_rate: int) -> Pcm:
    """``seconds`` of digital silence at ``sample_rate`` (a gap between pieces)."""
    return Pcm(np.zeros(max(0, round(seconds * sample_rate)), dtype=np.int16), sample_rate)
