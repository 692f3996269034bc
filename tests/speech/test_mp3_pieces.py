"""MP3 pieces encoded apart and joined by concatenation play as one reply."""

from __future__ import annotations

import io
import itertools

import av
import numpy as np
import numpy.typing as npt
import pytest

from ustad.speech.audio import decode_audio
from ustad.speech.mp3_pieces import LEAD_SAMPLES, encode_mp3_piece, mp3_piece_rate
from ustad.speech.types import Pcm

RATE = 22_050
FRAME = 576
"""Samples in one MPEG-2 Layer III frame (22.05 kHz)."""
GAP = 0.12


def tone(seconds: float, rate: int = RATE) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * 300 * t) * 8000).astype(np.int16), rate)


def piece(pcm: Pcm, quality: int | None = 7, gap: float = GAP) -> bytes:
    return encode_mp3_piece(pcm, sample_rate=RATE, bitrate=64_000, quality=quality, gap_seconds=gap)


def sounding(samples: npt.NDArray[np.float32]) -> list[tuple[int, int]]:
    """(start, end) sample indices of the stretches above the noise, joined across
    gaps shorter than 10 ms (a tone's own zero crossings)."""
    loud = np.flatnonzero(np.abs(samples) > 0.05)
    stretches = [[int(loud[0]), int(loud[0])]]
    for index in loud[1:]:
        if index - stretches[-1][1] > RATE // 100:
            stretches.append([int(index), int(index)])
        stretches[-1][1] = int(index)
    return [(start, end) for start, end in stretches]


@pytest.mark.parametrize("quality", [None, 3, 7])
def test_joined_pieces_decode_to_each_piece_with_the_gap_between(quality: int | None) -> None:
    lengths = (1.0, 0.31, 0.777)
    data = b"".join(piece(tone(seconds), quality) for seconds in lengths)
    samples = decode_audio(data, format_hint="mp3", sample_rate=RATE).samples
    stretches = sounding(samples)
    assert len(stretches) == len(lengths)
    for (start, end), seconds in zip(stretches, lengths, strict=True):
        assert abs((end - start) / RATE - seconds) < FRAME / RATE
    assert abs(stretches[0][0] - LEAD_SAMPLES) < FRAME
    for (_, end), (start, _) in itertools.pairwise(stretches):
        pause = (start - end) / RATE
        assert GAP - FRAME / RATE < pause < GAP + 2 * FRAME / RATE


def test_a_piece_is_bare_frames_at_one_rate() -> None:
    data = piece(tone(0.5, rate=16_000))  # a remote voice's rate: resampled to the reply's
    assert data[:2] == b"\xff\xf3"  # an MPEG-2 Layer III frame, no ID3 tag
    assert b"Xing" not in data[:200] and b"Info" not in data[:200]  # no one-piece header
    with av.open(io.BytesIO(data), format="mp3") as container:
        assert container.streams.audio[0].sample_rate == RATE
    assert mp3_piece_rate(RATE) == RATE and mp3_piece_rate(22_000) == 22_050


def test_quality_reaches_the_encoder() -> None:
    assert piece(tone(1.0), 0) != piece(tone(1.0), 9)


def test_nothing_to_say_is_no_bytes_and_bad_arguments_are_refused() -> None:
    assert piece(Pcm(np.zeros(0, np.int16), RATE)) == b""
    with pytest.raises(ValueError, match="mp3 quality"):
        piece(tone(0.1), 10)
    with pytest.raises(ValueError, match="gap"):
        piece(tone(0.1), gap=-0.1)
    with pytest.raises(ValueError, match="sample rate"):
        encode_mp3_piece(tone(0.1), sample_rate=0, bitrate=64_000)
