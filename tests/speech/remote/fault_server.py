"""A small real HTTP/1.1 server on 127.0.0.1 that plays an OpenAI-compatible provider
and misbehaves on demand, per path: ``ok``, ``slow``, ``500``, ``reset`` (the connection
is dropped with a TCP reset), ``malformed`` (200 with broken JSON), ``non_finite`` (a
transcript whose segment ends at NaN and starts at -1e308), ``nested`` (JSON nested
100000 deep)."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

Answer = Callable[[str], bytes]
"""The body of an ``ok`` answer for a path."""


@dataclass
class FaultServer:
    """Answers each request by ``modes[path]`` (``ok`` by default); keeps connections
    alive between ``ok`` answers; counts connections and requests."""

    answers: dict[str, Answer]
    modes: dict[str, str] = field(default_factory=dict)
    slow_seconds: float = 2.0
    connections: int = 0
    requests: list[str] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/v1"

    async def start(self) -> FaultServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next(
                    (
                        int(v)
                        for k, _, v in (ln.partition(":") for ln in lines)
                        if k.lower() == "content-length"
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests.append(path)
                if not await self._answer(path, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            if not writer.is_closing():
                writer.close()

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> bool:
        """Write the answer; False when the connection is to be dropped."""
        mode = self.modes.get(path, "ok")
        if mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if mode == "reset":
            sock = writer.get_extra_info("socket")
            # Linger 0: close() sends a TCP reset, not a graceful FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if mode == "500":
            body, status = (
                json.dumps({"error": {"message": "scripted"}}).encode(),
                "500 Internal Server Error",
            )
        elif mode == "malformed":
            body, status = b'{"text": "unfinished', "200 OK"
        elif mode == "non_finite":
            segment = b'{"text": " x", "start": -1e308, "end": NaN, "avg_logprob": -Infinity}'
            body, status = b'{"text": "x", "segments": [' + segment + b"]}", "200 OK"
        elif mode == "nested":
            body, status = b"[" * 100_000 + b"]" * 100_000, "200 OK"
        else:
            body, status = self.answers[path](path), "200 OK"
        writer.write(
            f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: keep-alive\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        return True
