"""MP3 replies joined from pieces encoded once each.

A tutor's reply is mostly fixed phrases ("You said:", "Now repeat after me.") around a
sentence or two; each segment's speech is synthesised once and cached, but encoding
the whole reply again for every turn made MP3 encoding the larger part of a reply's
CPU (``benchmarks/encode_cost.py``). An MPEG audio stream is a sequence of
self-delimiting frames, and the first frame LAME writes uses no bits of any frame
before it (its bit reservoir starts empty), so the frames of separately encoded pieces
concatenate into one valid stream: each piece can be encoded once, cached, and a
reply is the bytes of its pieces joined.

Each piece is written as bare frames (no ID3 tag, no Xing/LAME header, which would
describe one piece only) at one rate, and carries the pause that follows it: a decoder
plays a piece's LAME encoder delay and its own decoder delay (:data:`LEAD_SAMPLES`) as
silence before the speech, and the last frame's padding after it, so a piece is
followed by ``gap_seconds`` of silence less that lead: the pause heard between two
pieces is ``gap_seconds`` to about a frame and a half more (at 22.05 kHz a frame is
26 ms). A reply's first piece starts after that lead (50 ms at 22.05 kHz).
"""

from __future__ import annotations

from typing import Final

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext
from av.audio.frame import AudioFrame

from ustad.speech.audio import mp3_options, resample_pcm, supported_rate
from ustad.speech.types import Pcm

__all__ = ["LEAD_SAMPLES", "encode_mp3_piece", "mp3_piece_rate"]

LEAD_SAMPLES: Final = 576 + 529
"""Silence a decoder plays before a piece's first sample when no LAME header says to
skip it: LAME's encoder delay (576) and the MPEG decoder's delay (529)."""


def mp3_piece_rate(sample_rate: int) -> int:
    """The rate pieces are written at for ``sample_rate``: itself when LAME takes it
    (8 to 48 kHz MPEG rates, Piper's 22.05 kHz among them), else the next one up."""
    return supported_rate("libmp3lame", sample_rate)


def encode_mp3_piece(
    pcm: Pcm,
    *,
    sample_rate: int,
    bitrate: int,
    quality: int | None = None,
    gap_seconds: float = 0.0,
) -> bytes:
    """``pcm`` as bare MP3 frames at :func:`mp3_piece_rate` (``sample_rate``) and
    ``bitrate`` (bit/s, constant), LAME quality ``quality`` (0-9, ``None``: LAME's
    default), followed by ``gap_seconds`` of silence less :data:`LEAD_SAMPLES`;
    ``b""`` for a piece with no samples. Pieces made with the same rate and bitrate
    join by concatenation.

    Raises:
        ValueError: stereo samples, a rate that is not positive, a negative gap or a
            quality outside 0-9.
        RuntimeError: the encoder failed.
    """
    options = mp3_options(quality)
    if gap_seconds < 0:
        raise ValueError(f"gap_seconds must be >= 0, got {gap_seconds}")
    if sample_rate <= 0:
        raise ValueError(f"invalid sample rate {sample_rate}")
    rate = mp3_piece_rate(sample_rate)
    samples = resample_pcm(pcm, rate).samples
    if len(samples) == 0:
        return b""
    trailing = max(0, round(gap_seconds * rate) - LEAD_SAMPLES)
    if trailing:
        samples = np.concatenate([samples, np.zeros(trailing, dtype=np.int16)])
    try:
        context = av.CodecContext.create("libmp3lame", "w")
        if not isinstance(context, AudioCodecContext):  # narrows the type; the codec is ours
            raise TypeError("libmp3lame is not an audio encoder")
        context.sample_rate = rate
        context.layout = "mono"
        context.format = "s16p"  # mono: packed and planar are the same bytes
        context.bit_rate = bitrate
        context.options = options
        context.open()
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16p", layout="mono")
        frame.sample_rate = rate
        packets = context.encode(frame) + context.encode(None)
    except av.FFmpegError as error:
        raise RuntimeError(f"libmp3lame could not encode the audio: {error}") from error
    return b"".join(bytes(packet) for packet in packets)
