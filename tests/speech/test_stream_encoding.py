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


def test_wav_is_streamed_with_an_open_length_header() -> None:
    encoder = StreamEncoder("wav", sample_rate=22_050)
    first = encoder.add(tone(1.0))
    data = first + encoder.add(tone(0.5)) + encoder.finish()
    # OpenAI's streamed WAV: sizes unknown (0xFFFFFFFF), the samples right behind.
    assert first[:44] == wav_header(22_050, None)
    assert len(first) == 44 + round(1.0 * 22_050) * 2
    assert data[4:8] == data[40:44] == b"\xff\xff\xff\xff"
    with av.open(io.BytesIO(data), format="wav") as container:  # PyAV reads to the end
        stream = container.streams.audio[0]
        assert stream.sample_rate == 22_050
        frames = sum(frame.samples for frame in container.decode(stream))
    assert frames == round(1.5 * 22_050)
    with wave.open(io.BytesIO(data)) as reader:  # so does Python's wave
        assert reader.getframerate() == 22_050
        assert len(reader.readframes(reader.getnframes())) == round(1.5 * 22_050) * 2


def test_an_empty_wav_stream_is_still_a_header() -> None:
    assert StreamEncoder("wav", sample_rate=24_000).finish() == wav_header(24_000, None)


def test_the_wav_header_can_state_a_length() -> None:
    header = wav_header(24_000, 48_000)
    assert len(header) == 44 and header[:4] == b"RIFF" and header[36:40] == b"data"
    assert int.from_bytes(header[4:8], "little") == 36 + 48_000
    assert int.from_bytes(header[40:44], "little") == 48_000


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
    with pytest.raises(ValueError, match="mp3 quality"):
        StreamEncoder("mp3", sample_rate=22_050, mp3_quality=10)


def test_an_mp3_stream_at_any_quality_keeps_its_length() -> None:
    streams = {}
    for quality in (0, 7, 9):
        encoder = StreamEncoder("mp3", sample_rate=22_050, mp3_quality=quality)
        streams[quality] = b"".join(encoder.add(tone(0.7)) for _ in range(3)) + encoder.finish()
        with av.open(io.BytesIO(streams[quality]), format="mp3") as container:
            stream = container.streams.audio[0]
            assert stream.sample_rate == 22_050
            samples = sum(frame.samples for frame in container.decode(stream))
        # Streamed, there is no LAME tag to trim the codec's delay by: at most two frames
        # of it (576 samples each) plus the last frame's padding.
        assert round(2.1 * 22_050) <= samples <= round(2.1 * 22_050) + 3 * 576
    assert streams[0] != streams[9]
