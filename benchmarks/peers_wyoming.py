"""A minimal Wyoming protocol client: enough to ask a peer for a transcript or speech.

Wyoming runs over TCP. Each event is one JSON header line (``type``, and when they
are present ``data_length`` and ``payload_length``; older peers put a small ``data``
object in the header itself), then ``data_length`` bytes of JSON data, then
``payload_length`` bytes of payload (PCM audio for ``audio-chunk``). Written here
rather than imported so that the benchmark runs from ustad's own environment while
the peers live in theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

PROTOCOL_VERSION: Final = "1.10.2"
"""Version sent in headers (that of the peers' ``wyoming`` package); peers only log it."""
MAX_HEADER_BYTES: Final = 1 << 20
"""Longest header line accepted; a peer sending more is broken, not slow."""
CHUNK_SECONDS: Final = 1.0
"""Audio per ``audio-chunk`` sent to a recogniser."""


class WyomingError(RuntimeError):
    """The peer broke the protocol, closed early, or answered with an ``error`` event."""


@dataclass(frozen=True)
class Event:
    """One Wyoming event."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    payload: bytes = b""


def encode_event(event: Event) -> bytes:
    """The bytes of ``event`` on the wire: header line, data JSON, payload."""
    header: dict[str, Any] = {"type": event.type, "version": PROTOCOL_VERSION}
    data = json.dumps(dict(event.data), ensure_ascii=False).encode() if event.data else b""
    if data:
        header["data_length"] = len(data)
    if event.payload:
        header["payload_length"] = len(event.payload)
    line = json.dumps(header, ensure_ascii=False).encode() + b"\n"
    return line + data + event.payload


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    """The next event from ``reader``; ``None`` when the peer closed cleanly between events."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise WyomingError("connection closed inside an event header") from error
    except asyncio.LimitOverrunError as error:
        raise WyomingError("event header line too long") from error
    try:
        header = json.loads(line)
    except json.JSONDecodeError as error:
        raise WyomingError(f"event header is not JSON: {line[:200]!r}") from error
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise WyomingError(f"event header has no type: {line[:200]!r}")
    data = dict(header.get("data") or {})
    data_length = _length(header, "data_length")
    payload_length = _length(header, "payload_length")
    try:
        if data_length:
            extra = json.loads(await reader.readexactly(data_length))
            if not isinstance(extra, dict):
                raise WyomingError(f"{header['type']} data is not a JSON object")
            data.update(extra)
        payload = await reader.readexactly(payload_length) if payload_length else b""
    except asyncio.IncompleteReadError as error:
        raise WyomingError(f"connection closed inside a {header['type']} event") from error
    except json.JSONDecodeError as error:
        raise WyomingError(f"{header['type']} data is not JSON") from error
    return Event(header["type"], data, payload)


def _length(header: Mapping[str, Any], key: str) -> int:
    value = header.get(key) or 0
    if not isinstance(value, int) or value < 0:
        raise WyomingError(f"bad {key} {value!r} in a {header.get('type')} event")
    return value


async def _expect(reader: asyncio.StreamReader, wanted: str, skip: tuple[str, ...] = ()) -> Event:
    """The next event that is not in ``skip``, which must be ``wanted``."""
    while True:
        event = await read_event(reader)
        if event is None:
            raise WyomingError(f"connection closed while waiting for {wanted}")
        if event.type == "error":
            raise WyomingError(f"peer error: {event.data.get('text', event.data)}")
        if event.type == wanted:
            return event
        if event.type not in skip:
            raise WyomingError(f"expected {wanted}, got {event.type}")


class _Connection:
    """One TCP connection to a peer, closed on exit."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def __aenter__(self) -> _Connection:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=MAX_HEADER_BYTES
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def send(self, *events: Event) -> None:
        self.writer.write(b"".join(encode_event(e) for e in events))
        await self.writer.drain()


async def describe(host: str, port: int) -> dict[str, Any]:
    """The peer's ``info`` data (what it serves); also the readiness probe."""
    async with _Connection(host, port) as connection:
        await connection.send(Event("describe"))
        return dict((await _expect(connection.reader, "info")).data)


def audio_events(pcm: bytes, *, rate: int, width: int = 2, channels: int = 1) -> list[Event]:
    """``audio-start``, the PCM in ``CHUNK_SECONDS`` chunks, ``audio-stop``."""
    if width < 1 or channels < 1 or rate < 1:
        raise ValueError("rate, width and channels must be positive")
    frame = width * channels
    if len(pcm) % frame:
        raise ValueError(f"{len(pcm)} bytes of PCM is not a whole number of {frame}-byte frames")
    fmt = {"rate": rate, "width": width, "channels": channels}
    step = max(frame, int(rate * CHUNK_SECONDS) * frame)
    chunks = [
        Event("audio-chunk", fmt, pcm[start : start + step]) for start in range(0, len(pcm), step)
    ]
    return [Event("audio-start", fmt), *chunks, Event("audio-stop")]


async def transcribe(
    host: str, port: int, pcm: bytes, *, rate: int = 16_000, language: str | None = "en"
) -> str:
    """Send 16-bit mono ``pcm`` to a recogniser and return its transcript text."""
    request = Event("transcribe", {"language": language} if language else {})
    async with _Connection(host, port) as connection:
        await connection.send(request, *audio_events(pcm, rate=rate))
        # A streaming recogniser may send partial results first.
        event = await _expect(
            connection.reader, "transcript", skip=("transcript-start", "transcript-chunk")
        )
    return str(event.data.get("text", ""))


@dataclass(frozen=True)
class Speech:
    """Audio a synthesiser sent back."""

    pcm: bytes
    rate: int
    width: int
    channels: int

    @property
    def seconds(self) -> float:
        """Length of the audio."""
        return len(self.pcm) / (self.rate * self.width * self.channels)


async def synthesize(host: str, port: int, text: str, *, voice: str | None = None) -> Speech:
    """Ask a synthesiser to speak ``text``; the whole audio once ``audio-stop`` arrived."""
    if not text.strip():
        raise ValueError("nothing to synthesise")
    data: dict[str, Any] = {"text": text}
    if voice:
        data["voice"] = {"name": voice}
    async with _Connection(host, port) as connection:
        await connection.send(Event("synthesize", data))
        start = await _expect(connection.reader, "audio-start")
        rate, width, channels = (int(start.data[k]) for k in ("rate", "width", "channels"))
        parts: list[bytes] = []
        while True:
            event = await read_event(connection.reader)
            if event is None:
                raise WyomingError("connection closed before audio-stop")
            if event.type == "error":
                raise WyomingError(f"peer error: {event.data.get('text', event.data)}")
            if event.type == "audio-stop":
                break
            if event.type == "audio-chunk":
                parts.append(event.payload)
            # audio-start again (a later sentence) or anything else: keep reading.
    return Speech(b"".join(parts), rate, width, channels)
