"""Only an allow-list of containers is ever opened: no client can pick FFmpeg's others.

With FFmpeg's full probe, a playlist made the server fetch a URL the client chose
(``hls``), a session description bound UDP ports for 40 s (``sdp``) and a concat
list tried to read local files. These tests send such inputs with every kind of
hint and check that nothing is opened, fetched or bound.
"""

from __future__ import annotations

import io
import socket
import wave
from collections.abc import Iterator

import numpy as np
import pytest

from ustad.speech.audio import AudioDecodeError, decode_audio
from ustad.speech.containers import ALLOWED_DEMUXERS, sniff_container

DANGEROUS_HINTS = [
    "hls",
    "application/vnd.apple.mpegurl",
    "m3u8",
    "sdp",
    "application/sdp",
    "rtp",
    "rtsp",
    "concat",
    "ffconcat",
    "image2",
    "lavfi",
    "tee",
    "data",
    "subfile",
]


@pytest.fixture
def listener() -> Iterator[tuple[int, socket.socket]]:
    """A TCP port on loopback that counts who connects to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    try:
        yield server.getsockname()[1], server
    finally:
        server.close()


def connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            client, _ = server.accept()
        except BlockingIOError:
            return count
        client.close()
        count += 1


def wav_bytes(seconds: float = 0.5) -> bytes:
    samples = np.sin(np.linspace(0, 440 * 2 * np.pi * seconds, int(16_000 * seconds))) * 8000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("hint", [None, *DANGEROUS_HINTS])
def test_a_playlist_never_makes_the_server_fetch_a_url(
    hint: str | None, listener: tuple[int, socket.socket]
) -> None:
    port, server = listener
    playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n"
        f"http://127.0.0.1:{port}/segment.ts\n#EXT-X-ENDLIST\n"
    ).encode()
    with pytest.raises(AudioDecodeError, match="not a supported audio container"):
        decode_audio(playlist, format_hint=hint)
    assert connections(server) == 0


@pytest.mark.parametrize("hint", [None, *DANGEROUS_HINTS])
def test_a_session_description_binds_no_port(hint: str | None) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sdp = (
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
        f"m=audio {port} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
    ).encode()
    with pytest.raises(AudioDecodeError, match="not a supported audio container"):
        decode_audio(sdp, format_hint=hint)
    # Had FFmpeg opened the description, it would hold this port for its timeout.
    again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        again.bind(("127.0.0.1", port))
    finally:
        again.close()


@pytest.mark.parametrize("hint", [None, *DANGEROUS_HINTS])
def test_a_concat_list_reads_no_local_file(hint: str | None) -> None:
    listing = b"ffconcat version 1.0\nfile '/etc/hostname'\nfile 'file:/etc/passwd'\n"
    with pytest.raises(AudioDecodeError, match="not a supported audio container"):
        decode_audio(listing, format_hint=hint)


@pytest.mark.parametrize("hint", DANGEROUS_HINTS)
def test_a_dangerous_hint_on_real_audio_is_ignored(hint: str) -> None:
    audio = decode_audio(wav_bytes(), format_hint=hint)
    assert audio.duration == pytest.approx(0.5, abs=0.01)


def test_a_long_hint_is_cut_before_it_is_read() -> None:
    audio = decode_audio(wav_bytes(), format_hint="audio/" + "x" * 100_000)
    assert audio.duration == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    ("head", "demuxer"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"OggS\x00\x02", "ogg"),
        (b"\x1a\x45\xdf\xa3\x9f\x42", "matroska"),
        (b"fLaC\x00\x00", "flac"),
        (b"\x00\x00\x00\x20ftypM4A ", "mov"),
        (b"ID3\x04\x00", "mp3"),
        (b"\xff\xfb\x90\x64", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"#EXTM3U\n", None),
        (b"v=0\n", None),
        (b"", None),
        (b"\xff", None),
    ],
)
def test_containers_are_recognised_by_their_first_bytes(head: bytes, demuxer: str | None) -> None:
    assert sniff_container(head) == demuxer
    assert demuxer is None or demuxer in ALLOWED_DEMUXERS
