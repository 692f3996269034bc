"""Request bodies are bounded before they are buffered.

FastAPI reads a whole multipart upload into a temporary file, and a whole JSON body
into memory, before a route can look at its size. This ASGI middleware sits in
front: a declared ``Content-Length`` over the limit is answered 413 without reading
a byte, and a body sent without one (chunked) is counted as it streams in and cut
off at the limit. The answer has OpenAI's error shape, like every REST error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class BodyLimit:
    """Bodies of requests whose path starts with ``prefix`` may have ``max_bytes``."""

    prefix: str
    max_bytes: int


class BodyTooLargeError(Exception):
    """The body passed its limit (bytes) while streaming in."""


class BodyLimitMiddleware:
    """413 for any HTTP request body over its path's limit (``default_bytes`` if no
    ``BodyLimit`` matches; the longest matching prefix wins)."""

    def __init__(self, app: ASGIApp, *, limits: Sequence[BodyLimit], default_bytes: int) -> None:
        self.app = app
        self.limits = sorted(limits, key=lambda limit: -len(limit.prefix))
        self.default_bytes = default_bytes

    def limit_for(self, path: str) -> int:
        """The body limit of a path, in bytes."""
        for limit in self.limits:
            if path.startswith(limit.prefix):
                return limit.max_bytes
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answered here: the app may turn the exception below into a 400.
                    if not started and not refused:
                        refused = True
                        await _refuse(send, limit)
                    raise BodyTooLargeError(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is already on its way
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if not started and not refused:
                await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "message": f"request body larger than {limit} bytes",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_too_large",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
