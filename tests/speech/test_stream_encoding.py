"""Speech encoded piece by piece: every format decodes to the audio put in."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from ustad.speech.audio import decode_audio
from ustad.speech.stream_encoding import PCM_RATE, StreamEncoder, StreamFormat, wav_header
from ustad.speech.types import Pcm


def tone(seconds: float, rate: int = 22_050) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16), rate)


@pytest.mark.parametrize(
    ("fmt", "codec"),
    [("mp3", "mp3"), ("opus", "opus"), ("aac", "aac"), ("flac", "flac"), ("wav", "pcm_s16le")],
)
def test_pieces_make_one_stream_of_the_whole_length(fmt: StreamFormat, codec: str) -> None:
    encoder = StreamEncoder(fmt, sample_rate=22_050)
    chunks = [encoder.add(tone(1.0)), encoder.add(tone(0.5, rate=16_000)), encoder.finish()]
    data = b"".join(chunks)
    if fmt == "wav":  # its header states the length: it comes whole at the end
        assert chunks[:2] == [b"", b""]
    else:
        assert chunks[0], "the first piece is sent before the last is encoded"
    assert abs(decode_audio(data).duration - 1.5) < 0.1
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.audio[0].codec_context.name.startswith(codec[:3])
    assert encoder.finish() == b""  # finishing twice adds nothing
    with pytest.raises(RuntimeError):
        encoder.add(tone(0.1))


def test_aac_is_adts_frames() -> None:
    encoder = StreamEncoder("aac", sample_rate=22_050)
    data = encoder.add(tone(1.0)) + encoder.finish()
    assert data[0] == 0xFF and data[1] & 0xF0 == 0xF0  # an ADTS sync word, no MP4 boxes


def test_pcm_is_raw_24_khz_16_bit_little_endian() -> None:
    encoder = StreamEncoder("pcm", sample_rate=22_050)
    data = encoder.add(tone(1.0)) + encoder.add(tone(1.0, rate=PCM_RATE)) + encoder.finish()
    assert encoder.sample_rate == PCM_RATE
    assert abs(len(data) / 2 / PCM_RATE - 2.0) < 0.01
    samples = np.frombuffer(data, dtype="<i2")
    assert 7000 < int(np.abs(samples).max()) <= 8001


def test_the_wav_header_states_the_length() -> None:
    encoder = StreamEncoder("wav", sample_rate=22_050)
    encoder.add(tone(1.0))
    with wave.open(io.BytesIO(encoder.add(tone(0.5)) + encoder.finish())) as reader:
        assert reader.getnframes() == round(1.5 * 22_050) and reader.getframerate() == 22_050
    header = wav_header(24_000)  # length unknown: OpenAI's streamed WAV header
    assert len(header) == 44 and header[:4] == b"RIFF" and header[36:40] == b"data"
    assert header[4:8] == header[40:44] == b"\xff\xff\xff\xff"


def test_a_closed_stream_takes_no_more() -> None:
    encoder = StreamEncoder("mp3", sample_rate=22_050)
    encoder.add(tone(0.2))
    encoder.close()
    encoder.close()
    with pytest.raises(RuntimeError):
        encoder.add(tone(0.2))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="sample rate"):
        StreamEncoder("mp3", sample_rate=0)
    with pytest.raises(ValueError, match="format"):
        StreamEncoder("ogg", sample_rate=22_050)  # type: ignore[arg-type]
