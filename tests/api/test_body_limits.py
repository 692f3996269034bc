"""Request bodies past their limit are refused before they are read or stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.api.conftest import RunningApp
from ustad.api.body_limits import BodyLimit, BodyLimitMiddleware


async def raw_request(address: str, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a hand-made HTTP/1.1 request; the status and body of the answer."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("path", ["/v1/assessments", "/v1/audio/transcriptions"])
async def test_a_declared_huge_upload_is_refused_before_a_byte_is_read(
    fake_app: RunningApp, path: str
) -> None:
    """200 MiB announced, nothing sent: the answer comes without waiting for the body."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n"
    )
    status, body = await raw_request(fake_app.address, head)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


async def test_a_declared_huge_json_body_is_refused(fake_app: RunningApp) -> None:
    head = (
        "POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n"
    )
    status, _ = await raw_request(fake_app.address, head)
    assert status == 413


async def test_a_chunked_upload_is_cut_off_at_the_limit(fake_app: RunningApp) -> None:
    limit = fake_app.settings.limits.max_message_bytes
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        for _ in range(4 * limit // 65536):
            sent += 65536
            yield b"\0" * 65536

    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        try:
            response = await http.post(
                "/v1/assessments",
                content=chunks(),
                headers={"content-type": "multipart/form-data; boundary=b"},
            )
        except httpx.HTTPError:
            pytest.fail("the server should answer 413, not drop the connection")
    assert response.status_code == 413


async def test_a_small_json_body_is_served(fake_app: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}", timeout=60) as http:
        response = await http.post("/v1/audio/speech", json={"input": "Hello.", "voice": "en"})
    assert response.status_code == 200


async def test_the_inner_app_never_receives_more_than_the_limit() -> None:
    received: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = BodyLimitMiddleware(app, limits=[BodyLimit("/up", 1000)], default_bytes=100)
    chunks = iter([b"x" * 400] * 10)

    async def receive() -> Message:
        return {"type": "http.request", "body": next(chunks), "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": "/up/file", "headers": []}
    await middleware(scope, receive, send)
    assert sum(received) <= 1000
    assert sent[0]["status"] == 413
    assert middleware.limit_for("/elsewhere") == 100
