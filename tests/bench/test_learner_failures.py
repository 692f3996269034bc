"""Learners against servers that misbehave: failures are counted, and the table says so.

Each server here is real (a WebSocket over TCP on 127.0.0.1): one that accepts and
never replies, one that closes the connection in the middle of a cycle, one whose
WebSocket layer stops answering pings, and none at all. Timeouts are kept tiny so
the tests are fast; nothing asserts on wall-clock windows.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ustad.bench.learner import LearnerResult, run_learners
from ustad.bench.report import ServerState, format_table, run_report
from ustad.bench.server import free_port
from ustad.bench.workload import Clip, Workload

WORKLOAD = Workload(learners=3, cycles=2, think_time=0.0, synthetic_urdu=0)
URDU = [Clip("urdu.wav", b"RIFF-urdu", "wav", "common_voice", "x", 1.0)]
ENGLISH = [Clip("learner.wav", b"RIFF-english", "wav", "speechocean762", "y", 1.0)]
AUDIO = b"\xff\xfb" * 50

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def websocket_server(handler: Handler) -> AsyncIterator[str]:
    """A websockets server on a free port; yields its ``ws://`` URL."""
    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def never_replies(ws: ServerConnection) -> None:
    """Reads every message (pings are answered by websockets) and answers none."""
    with suppress(ConnectionClosed):  # the learner gives up and closes (1011)
        async for _ in ws:
            pass


async def closes_mid_cycle(ws: ServerConnection) -> None:
    """Serves the Urdu turn and the acks, then closes on the English attempt."""
    audio_messages = 0
    async for raw in ws:
        message: dict[str, Any] = json.loads(raw)
        if "audio_base64" in message:
            audio_messages += 1
            if audio_messages > 1:
                await ws.close(1011, "engine crashed")
                return
            await ws.send(json.dumps({"step": "you_said_audio", "audio_format": "mp3"}))
            await ws.send(AUDIO)
        elif message.get("type") == "you_said_complete":
            await ws.send(json.dumps({"step": "repeat_prompt"}))
        else:
            await ws.send(json.dumps({"step": "full_sentence_audio", "audio_format": "mp3"}))
            await ws.send(AUDIO)


async def _deaf_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts the WebSocket handshake (RFC 6455 §4.2.2), then reads and answers nothing:
    like a server whose event loop is blocked, it never returns a pong."""
    request = await reader.readuntil(b"\r\n\r\n")
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    await writer.drain()
    while await reader.read(65536):
        pass
    writer.close()


@asynccontextmanager
async def deaf_server() -> AsyncIterator[str]:
    """A server that completes the handshake and then never answers a frame (nor a ping)."""
    server = await asyncio.start_server(_deaf_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.close()


def table_of(learners: list[LearnerResult], workload: Workload) -> tuple[dict[str, Any], str]:
    """The run report and the bench table for these learners (no server counters)."""
    empty = ServerState({}, None)
    run = run_report(
        learners,
        1.0,
        workload=workload,
        urdu_pool=URDU,
        before=empty,
        after=empty,
        server_process=None,
    )
    results = {"configs": {"broken": {"runs": {str(workload.learners): run}}}}
    return run, format_table(results)


async def test_a_server_that_never_replies_times_every_learner_out() -> None:
    async with websocket_server(never_replies) as url:
        learners, _ = await run_learners(url, WORKLOAD, URDU, ENGLISH, reply_timeout=0.5)
    for result in learners:
        assert result.failure is not None and result.failure.kind == "timeout"
        assert result.failure.reason == "no reply within 0.5 s"
        [lost] = result.unserved
        assert (lost.sent, lost.kind) == ("urdu_utterance", "timeout")
        assert lost.waited_ms >= 500.0  # the learner waited the whole timeout
        assert result.samples == []
    run, table = table_of(learners, WORKLOAD)
    failures = run["failures"]
    assert failures["learners_dropped"] == 3 and failures["by_kind"] == {"timeout": 3}
    assert (failures["turns_sent"], failures["turns_served"], failures["timeouts"]) == (3, 0, 3)
    assert failures["cycles_not_completed"] == 6
    latency = run["per_turn"]["urdu"]["latency_ms"]
    assert latency["served"] == 0 and latency["not_served"] == 3
    assert {"p50", "p95", "p99", "max"} <= set(latency["lower_bound"])
    assert latency["p95"] >= 500.0
    row = table.splitlines()[2].split()
    assert row[:5] == ["broken", "3", "urdu", "3", "0/3"]
    assert row[5] == "≥" and float(row[6]) >= 0.5  # p50 "≥ 0.50": at least the timeout
    assert "3/3" in row  # dropped learners
    assert "served 0 of 3 turns; 3 of 3 learners dropped (3 no reply within 0.5 s)" in table
    assert "6 of 6 cycles not completed" in table
    # The one "n/a" is the loop lag this server does not report, and a note says so.
    assert table.count("n/a") == 2 and "lag p99 n/a for broken: the server has no" in table


async def test_a_connection_closed_mid_cycle_is_a_drop_with_its_close_code() -> None:
    workload = replace(WORKLOAD, learners=2)
    async with websocket_server(closes_mid_cycle) as url:
        learners, _ = await run_learners(url, workload, URDU, ENGLISH, reply_timeout=5.0)
    for result in learners:
        failure = result.failure
        assert failure is not None and failure.kind == "dropped"
        assert failure.close_code == 1011 and failure.exception == "ConnectionClosedError"
        assert failure.reason == "closed by the server (1011 engine crashed)"
        assert failure.cycle == 0
        assert [lost.sent for lost in result.unserved] == ["english_utterance"]
        # The Urdu turn and both acknowledgements before the drop were served.
        assert [s.sent for s in result.samples] == [
            "urdu_utterance",
            "you_said_complete",
            "word_by_word_complete",
        ]
    run, table = table_of(learners, workload)
    failures = run["failures"]
    assert failures["reasons"] == {"closed by the server (1011 engine crashed)": 2}
    assert failures["close_codes"] == {"1011": 2}
    assert (failures["turns_sent"], failures["turns_served"]) == (4, 2)
    assert failures["timeouts"] == 0
    assert run["per_turn"]["urdu"]["latency_ms"]["lower_bound"] == []
    assert run["per_turn"]["english"]["latency_ms"]["not_served"] == 2
    assert "served 2 of 4 turns; 2 of 2 learners dropped (2 closed by the server" in table


async def test_a_server_that_stops_answering_pings_is_a_keepalive_timeout() -> None:
    workload = replace(WORKLOAD, learners=2)
    async with deaf_server() as url:
        learners, _ = await run_learners(
            url, workload, URDU, ENGLISH, reply_timeout=30.0, keepalive=0.2
        )
    for result in learners:
        failure = result.failure
        assert failure is not None
        assert (failure.kind, failure.reason, failure.close_code) == (
            "dropped",
            "keepalive timeout",
            1011,
        )
        [lost] = result.unserved
        assert lost.kind == "dropped" and lost.sent == "urdu_utterance"
    _, table = table_of(learners, workload)
    assert "served 0 of 2 turns; 2 of 2 learners dropped (2 keepalive timeout)" in table


async def test_a_refused_connection_sends_nothing_and_says_so() -> None:
    workload = replace(WORKLOAD, learners=2)
    learners, _ = await run_learners(
        f"ws://127.0.0.1:{free_port()}", workload, URDU, ENGLISH, reply_timeout=0.5
    )
    for result in learners:
        assert result.failure is not None
        assert (result.failure.kind, result.failure.reason) == ("refused", "connection refused")
        assert result.unserved == [] and result.samples == []
    run, table = table_of(learners, workload)
    assert run["per_turn"] == {}
    assert run["failures"]["turns_sent"] == 0
    row = table.splitlines()[2].split()
    assert row[:5] == ["broken", "2", "none", "0", "0/0"]
    assert "no turn was sent; 2 of 2 learners dropped (2 connection refused)" in table
