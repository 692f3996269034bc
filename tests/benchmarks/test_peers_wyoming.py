"""The Wyoming client of the peers benchmark: framing, and both request kinds against a
small in-process Wyoming server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from peers_wyoming import (
    CHUNK_SECONDS,
    Event,
    WyomingError,
    audio_events,
    describe,
    encode_event,
    read_event,
    synthesize,
    transcribe,
)


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_an_event_survives_encoding_and_reading() -> None:
    event = Event("audio-chunk", {"rate": 16000, "width": 2, "channels": 1}, b"\x01\x02" * 5)
    reader = reader_of(encode_event(event) + encode_event(Event("audio-stop")))
    assert await read_event(reader) == event
    assert await read_event(reader) == Event("audio-stop")
    assert await read_event(reader) is None


def test_the_header_announces_data_and_payload_lengths() -> None:
    wire = encode_event(Event("synthesize", {"text": "Ünïcode ok"}, b"abc"))
    header, rest = wire.split(b"\n", 1)
    fields = json.loads(header)
    data = json.dumps({"text": "Ünïcode ok"}, ensure_ascii=False).encode()
    assert fields["type"] == "synthesize"
    assert fields["data_length"] == len(data)
    assert fields["payload_length"] == 3
    assert rest == data + b"abc"


async def test_data_inline_in_the_header_is_merged_with_data_bytes() -> None:
    header = {"type": "transcript", "data": {"text": "inline", "a": 1}, "data_length": 8}
    reader = reader_of(json.dumps(header).encode() + b"\n" + b'{"a": 2}')
    event = await read_event(reader)
    assert event == Event("transcript", {"text": "inline", "a": 2})


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b'{"type": "audio-chunk", "payload_length": 10}\n12345', "inside a audio-chunk"),
        (b'{"type": "audio-st', "inside an event header"),
        (b"not json\n", "not JSON"),
        (b'{"data": {}}\n', "no type"),
        (b'{"type": "x", "data_length": -1}\n', "bad data_length"),
    ],
)
async def test_broken_events_are_clear_errors(wire: bytes, message: str) -> None:
    with pytest.raises(WyomingError, match=message):
        await read_event(reader_of(wire))


def test_audio_is_framed_as_start_chunks_stop() -> None:
    rate = 16_000
    pcm = bytes(2 * int(rate * CHUNK_SECONDS * 2.5))  # 2.5 chunks of 16-bit samples
    events = audio_events(pcm, rate=rate)
    assert [e.type for e in events] == ["audio-start"] + ["audio-chunk"] * 3 + ["audio-stop"]
    assert b"".join(e.payload for e in events) == pcm
    assert all(e.data == {"rate": rate, "width": 2, "channels": 1} for e in events[:-1])


def test_audio_of_partial_frames_is_refused() -> None:
    with pytest.raises(ValueError, match="whole number"):
        audio_events(b"\x00\x00\x00", rate=16_000)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_transcribe_sends_the_language_and_all_audio(
    serve: Callable[[Handler], Awaitable[int]],
) -> None:
    received: list[Event] = []

    async def recogniser(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (event := await read_event(reader)) is not None:
            received.append(event)
            if event.type == "audio-stop":
                audio = b"".join(e.payload for e in received if e.type == "audio-chunk")
                writer.write(encode_event(Event("transcript-start")))
                writer.write(encode_event(Event("transcript", {"text": f"{len(audio)} bytes"})))
                await writer.drain()
                break
        writer.close()

    port = await serve(recogniser)
    pcm = bytes(range(256)) * 250  # 64000 bytes: 2 s at 16 kHz
    assert await transcribe("127.0.0.1", port, pcm) == "64000 bytes"
    assert received[0] == Event("transcribe", {"language": "en"})
    assert received[1] == Event("audio-start", {"rate": 16000, "width": 2, "channels": 1})


async def test_synthesize_collects_every_chunk_until_audio_stop(
    serve: Callable[[Handler], Awaitable[int]],
) -> None:
    async def synthesiser(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_event(reader)
        assert request is not None
        fmt = {"rate": 22050, "width": 2, "channels": 1}
        writer.write(encode_event(Event("audio-start", fmt)))
        for _ in range(3):
            writer.write(encode_event(Event("audio-chunk", fmt, bytes(22050))))
        writer.write(encode_event(Event("audio-stop")))
        await writer.drain()
        # Like wyoming-piper, keep the connection open: the client must stop at audio-stop.
        await reader.read()
        writer.close()

    port = await serve(synthesiser)
    speech = await synthesize("127.0.0.1", port, "Where is the station?")
    assert len(speech.pcm) == 3 * 22050
    assert speech.seconds == pytest.approx(1.5)


async def test_a_peer_error_event_is_raised(serve: Callable[[Handler], Awaitable[int]]) -> None:
    async def failing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_event(reader)
        writer.write(encode_event(Event("error", {"text": "voice not found"})))
        await writer.drain()
        writer.close()

    port = await serve(failing)
    with pytest.raises(WyomingError, match="voice not found"):
        await synthesize("127.0.0.1", port, "Hello.")
    with pytest.raises(WyomingError, match="voice not found"):
        await describe("127.0.0.1", port)


async def test_a_peer_closing_early_is_an_error(serve: Callable[[Handler], Awaitable[int]]) -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (event := await read_event(reader)) is not None and event.type != "audio-stop":
            pass
        writer.close()

    port = await serve(rude)
    with pytest.raises(WyomingError, match="closed"):
        await transcribe("127.0.0.1", port, bytes(3200))
