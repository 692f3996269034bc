"""Which audio containers ustad opens, and how it tells them apart.

FFmpeg has about 400 demuxers; some open other URLs or files (``hls``, ``concat``)
or bind ports (``sdp``, ``rtp``). ustad opens only the few that phones and browsers
record in, chosen from the client's hint when it names one of them, else from the
bytes' magic numbers, never by FFmpeg's probe over every demuxer.
"""

from __future__ import annotations

from typing import Final

ALLOWED_DEMUXERS: Final = ("wav", "ogg", "matroska", "mp3", "mov", "flac", "aac")
"""The only FFmpeg demuxers ustad ever opens. None of them opens another URL or file
(FFmpeg's ``mov`` follows external data references only when ``enable_drefs`` is set,
and it is not), so a client's bytes or hint can never make the server fetch a URL
(``hls``), bind a port (``sdp``, ``rtp``) or read a local file (``concat``)."""

# Hint spellings (file extensions, MIME subtypes) mapped to an allowed demuxer.
_DEMUXER_ALIASES: Final = {
    "wav": "wav",
    "wave": "wav",
    "x-wav": "wav",
    "vnd.wave": "wav",
    "ogg": "ogg",
    "opus": "ogg",
    "oga": "ogg",
    "webm": "matroska",
    "weba": "matroska",
    "mkv": "matroska",
    "matroska": "matroska",
    "mp3": "mp3",
    "mpeg": "mp3",  # audio/mpeg; FFmpeg's "mpeg" demuxer is MPEG-PS video
    "mpga": "mp3",
    "mp4": "mov",
    "m4a": "mov",
    "x-m4a": "mov",
    "mov": "mov",
    "aac": "aac",
    "flac": "flac",
    "x-flac": "flac",
}


def demuxer_for_hint(hint: str | None) -> str | None:
    """The allowed demuxer a hint names, or ``None`` (unknown or not allowed: ignored)."""
    if not hint:
        return None
    name = hint[:64].split(";", 1)[0].strip().lower().lstrip(".")
    name = name.rsplit("/", 1)[-1]  # "audio/webm" -> "webm"
    return _DEMUXER_ALIASES.get(name)


def sniff_container(data: bytes) -> str | None:
    """The allowed demuxer for the bytes' container, from their first bytes, or ``None``.

    Magic numbers: RIFF/WAVE, ``OggS``, EBML (Matroska/WebM), ``fLaC``, an ISO-BMFF
    ``ftyp`` box (MP4/M4A), an ID3 tag or MPEG audio frame sync (MP3), and the ADTS
    sync word (raw AAC; ISO/IEC 13818-7: 12 sync bits, then layer ``00``).
    """
    head = data[:12]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp":
        return "mov"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:
            return "aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
            return "mp3"
    return None
