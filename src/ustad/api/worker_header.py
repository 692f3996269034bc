"""``X-Ustad-Worker``: which server process answered, so a fleet's workers can be told apart
behind a load balancer (and a test can see that both answer)."""

from __future__ import annotations

import os
import socket

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKER_HEADER = "x-ustad-worker"
"""The response header naming the worker."""


def worker_name(configured: str | None) -> str:
    """``configured`` (``server.worker_name``), or ``<hostname>:<pid>`` when ``None``."""
    return configured or f"{socket.gethostname()}:{os.getpid()}"


class WorkerHeaderMiddleware:
    """Adds ``X-Ustad-Worker: <name>`` to every HTTP response (``name`` is ASCII; others are
    replaced by ``?``)."""

    def __init__(self, app: ASGIApp, *, name: str) -> None:
        self.app = app
        self.header = (WORKER_HEADER.encode(), name.encode("ascii", "replace"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, send_named)
