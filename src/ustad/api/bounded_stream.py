"""Streamed REST answers with a send timeout, so a client that stops reading lets go.

A ``StreamingResponse`` waits in ``send`` while the client's socket buffers are full:
a client that never reads would hold the request, its REST engine slot and its
synthesis forever. ``BoundedStreamingResponse`` gives each send ``send_timeout``
seconds (``limits.send_timeout_seconds``, as the WebSocket's replies); past it the
rest of the stream is closed (its synthesis stops), the response ends unfinished (the
server then closes the connection) and the slot is given back. A client that goes away
has the rest of its stream closed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Message, Send

log = logging.getLogger(__name__)


class SendTimeoutError(Exception):
    """The client took none of a streamed chunk within the send timeout."""


class BoundedStreamingResponse(StreamingResponse):
    """A ``StreamingResponse`` whose every send must finish within ``send_timeout``
    seconds (``ValueError`` unless positive); counts ``timed_out`` streams."""

    def __init__(
        self,
        content: AsyncIterator[bytes] | AsyncIterator[str],
        *,
        send_timeout: float,
        media_type: str,
    ) -> None:
        if send_timeout <= 0:
            raise ValueError(f"invalid send timeout {send_timeout}")
        super().__init__(content, media_type=media_type)
        self.send_timeout = send_timeout
        self.timed_out = False

    async def stream_response(self, send: Send) -> None:
        """Stream the body; on a send that times out, close the body and return
        without finishing the response."""

        async def bounded(message: Message) -> None:
            try:
                async with asyncio.timeout(self.send_timeout):
                    await send(message)
            except TimeoutError as error:
                raise SendTimeoutError from error

        try:
            await super().stream_response(bounded)
        except SendTimeoutError:
            self.timed_out = True
            log.warning(
                "a streamed answer was not read for %.0f s: stream aborted", self.send_timeout
            )
        finally:
            # Finished, timed out, or cancelled because the client went away: the body
            # is closed now (its synthesis or decoding stops, its engine call is waited
            # for), not whenever the garbage collector gets to it.
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True), contextlib.suppress(RuntimeError):
                    await close()
