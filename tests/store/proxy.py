"""A TCP proxy in front of the shared PostgreSQL that a test can make refuse or hang.

``refuse()`` drops every open connection and resets new ones at once (as a stopped server
does); ``hang()`` keeps accepting connections but moves no more bytes either way (as a
frozen server or a dead network path does); ``resume()`` goes back to forwarding. The
shared server itself is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import make_url


def upstream_of(dsn: str) -> tuple[str, int]:
    """Host and port of a PostgreSQL DSN (the defaults where it names none)."""
    url = make_url(dsn)
    return url.host or "127.0.0.1", url.port or 5432


class PausableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port`` until told otherwise."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        """Connections accepted so far (a client that reconnects shows up here)."""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, url: str) -> str:
        """``url`` (a SQLAlchemy URL to the upstream server) pointed at the proxy instead."""
        proxied = make_url(url).set(host="127.0.0.1", port=self.port)
        return proxied.render_as_string(hide_password=False)

    def refuse(self) -> None:
        self._refusing = True
        self._flowing.set()
        for writer in list(self._writers):
            writer.transport.abort()

    def hang(self) -> None:
        self._refusing = False
        self._flowing.clear()

    def resume(self) -> None:
        self._refusing = False
        self._flowing.set()

    async def close(self) -> None:
        self.refuse()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
                self._tasks.discard(task)
            for end in (writer, up_writer):
                self._writers.discard(end)
                end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                # A hung server: what was read is held until resume (or the end).
                await self._flowing.wait()
                if self._refusing:
                    return
                writer.write(data)
                await writer.drain()
