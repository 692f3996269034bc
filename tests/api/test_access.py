"""Access control over real HTTP and WebSockets: tokens, operator keys, origins, ids, rates."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import websockets
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed

from tests.api.conftest import (
    RunningApp,
    Script,
    connect,
    fake_services_factory,
    make_settings,
    serve,
)
from ustad.app import create_app
from ustad.settings import AuthSettings, LimitSettings, ServerSettings, Settings

SECRET = "test-secret-that-is-long-enough-for-hs256"
KEY = "operator-key-1"
LEARNER = "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"
OTHER = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def token(sub: str = LEARNER, secret: str = SECRET, **claims: Any) -> str:
    body = {"sub": sub, "exp": int(time.time()) + 600, **claims}
    return jwt.encode(body, secret, algorithm="HS256")


def running(tmp_path: Path, **groups: Any) -> Iterator[RunningApp]:
    base = make_settings(tmp_path)
    settings = Settings(**{**{name: getattr(base, name) for name in ("db", "stt")}, **groups})
    settings = settings.model_copy(update={"audio_store": base.audio_store})
    script = Script()
    app = create_app(settings, services_factory=fake_services_factory(script))
    with serve(app, settings) as address:
        yield RunningApp(address, settings, script)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[RunningApp]:
    auth = AuthSettings(jwt_secret=SecretStr(SECRET), api_keys=[SecretStr(KEY)])
    server = ServerSettings(allowed_origins=["https://app.example"])
    yield from running(tmp_path, auth=auth, server=server)


async def close_code(address: str, query: str = "", **connect: Any) -> int | None:
    """The close code the server ends the socket with before any reply, or None if it
    answers (the socket was admitted)."""
    async with websockets.connect(f"ws://{address}/ws/learn{query}", **connect) as ws:
        try:
            await ws.send('{"type": "bogus"}')
            await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?token=not-a-jwt",
        f"?token={token(secret='another-secret-of-the-same-kind-xx')}",
        f"?token={token(exp=int(time.time()) - 3600)}",
        f"?token={token(sub='')}",
        f"?token={token()}&learner_id={OTHER}",
    ],
)
async def test_a_socket_without_a_valid_token_is_closed_1008(
    secured: RunningApp, query: str
) -> None:
    assert await close_code(secured.address, query) == 1008


async def test_a_token_admits_its_learner_by_query_or_header(secured: RunningApp) -> None:
    assert await close_code(secured.address, f"?token={token()}") is None
    headers = {"Authorization": f"Bearer {token()}"}
    assert await close_code(secured.address, additional_headers=headers) is None
    assert await close_code(secured.address, f"?token={token()}&learner_id={LEARNER}") is None


@pytest.mark.parametrize(
    ("origin", "admitted"),
    [
        ("https://evil.example", False),
        ("http://127.0.0.1.evil.example", False),
        ("null", False),
        ("https://app.example", True),
        (None, True),  # a native app sends no Origin
    ],
)
async def test_only_own_and_allowed_origins_may_open_the_socket(
    secured: RunningApp, origin: str | None, admitted: bool
) -> None:
    kwargs: dict[str, Any] = {"origin": origin} if origin else {}
    code = await close_code(secured.address, f"?token={token()}", **kwargs)
    assert (code is None) is admitted


async def test_the_page_s_own_origin_is_allowed(secured: RunningApp) -> None:
    origin = f"http://{secured.address}"
    assert await close_code(secured.address, f"?token={token()}", origin=origin) is None


async def test_rest_needs_a_token_or_an_operator_key(secured: RunningApp) -> None:
    speech = {"input": "Hello.", "voice": "en"}
    async with httpx.AsyncClient(base_url=f"http://{secured.address}") as http:
        refused = await http.post("/v1/audio/speech", json=speech)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["error"]["code"] == "unauthorized"
        for credential in (token(), KEY):
            headers = {"Authorization": f"Bearer {credential}"}
            response = await http.post("/v1/audio/speech", json=speech, headers=headers)
            assert response.status_code == 200
        assert (await http.get("/health")).status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/v1/stats"])
async def test_operator_routes_need_an_operator_key(secured: RunningApp, path: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{secured.address}") as http:
        assert (await http.get(path)).status_code == 401
        learner = {"Authorization": f"Bearer {token()}"}
        assert (await http.get(path, headers=learner)).status_code == 401
        operator = {"Authorization": f"Bearer {KEY}"}
        assert (await http.get(path, headers=operator)).status_code == 200


async def test_a_learner_reads_only_their_own_progress(secured: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{secured.address}") as http:
        mine = {"Authorization": f"Bearer {token(LEARNER)}"}
        assert (await http.get(f"/v1/learners/{LEARNER}/progress", headers=mine)).is_success
        other = await http.get(f"/v1/learners/{OTHER}/progress", headers=mine)
        assert other.status_code == 403
        operator = {"Authorization": f"Bearer {KEY}"}
        assert (await http.get(f"/v1/learners/{OTHER}/progress", headers=operator)).is_success
        assert (await http.get(f"/v1/learners/{OTHER}/progress")).status_code == 401


async def test_an_operator_issues_tokens_that_open_the_socket(secured: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{secured.address}") as http:
        body = {"learner_id": LEARNER}
        assert (await http.post("/v1/auth/token", json=body)).status_code == 401
        learner = {"Authorization": f"Bearer {token()}"}
        assert (await http.post("/v1/auth/token", json=body, headers=learner)).status_code == 401
        operator = {"Authorization": f"Bearer {KEY}"}
        issued = await http.post("/v1/auth/token", json=body, headers=operator)
    assert issued.status_code == 200
    access = issued.json()["access_token"]
    assert jwt.decode(access, SECRET, algorithms=["HS256"])["sub"] == LEARNER
    assert await close_code(secured.address, f"?token={access}") is None


@pytest.fixture
def open_app(tmp_path: Path) -> Iterator[RunningApp]:
    yield from running(tmp_path)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?learner_id=not-a-uuid", 1008),
        ("?learner_id=%00", 1008),
        (f"?learner_id={'x' * 129}", 1008),
        (f"?learner_id={uuid.uuid4()}", None),
        ("", None),
    ],
)
async def test_without_auth_learner_ids_are_uuids(
    open_app: RunningApp, query: str, code: int | None
) -> None:
    assert await close_code(open_app.address, query) == code


async def test_without_auth_a_foreign_origin_is_still_refused(open_app: RunningApp) -> None:
    assert await close_code(open_app.address, origin="https://evil.example") == 1008
    async with httpx.AsyncClient(base_url=f"http://{open_app.address}") as http:
        assert (await http.get("/v1/stats")).status_code == 200


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[RunningApp]:
    limits = LimitSettings(client_rate="5/minute", learner_turn_rate="1/minute")
    yield from running(tmp_path, limits=limits)


async def test_past_its_rate_a_client_gets_429_with_retry_after(limited: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=f"http://{limited.address}") as http:
        statuses = [(await http.get("/health")).status_code for _ in range(6)]
        refused = await http.get("/health")
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"


async def test_past_their_turn_rate_a_learner_is_told_busy(
    limited: RunningApp, urdu_audio: bytes
) -> None:
    async with connect(limited.address, f"?learner_id={LEARNER}") as client:
        await client.say(urdu_audio, "english")
        assert (await client.receive()).step == "you_said_audio"
        await client.say(urdu_audio)
        refused = await client.receive()
    assert refused.step == "error" and refused.data["code"] == "busy"


@pytest.fixture
def secret_only(tmp_path: Path) -> Iterator[RunningApp]:
    """Learner tokens on, no operator keys: the deployment signs its own tokens."""
    yield from running(tmp_path, auth=AuthSettings(jwt_secret=SecretStr(SECRET)))


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/auth/token"), ("GET", "/metrics"), ("GET", "/v1/stats")],
)
async def test_with_tokens_and_no_keys_operator_routes_are_closed(
    secret_only: RunningApp, method: str, path: str
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{secret_only.address}") as http:
        response = await http.request(method, path, json={"learner_id": OTHER})
        assert response.status_code == 401
        learner = {"Authorization": f"Bearer {token()}"}
        response = await http.request(method, path, json={"learner_id": OTHER}, headers=learner)
        assert response.status_code == 401


async def test_a_bad_learner_id_for_a_token_is_named_as_such(secured: RunningApp) -> None:
    operator = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=f"http://{secured.address}") as http:
        response = await http.post("/v1/auth/token", json={"learner_id": "a\nb"}, headers=operator)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_learner_id"


async def test_a_rebound_host_name_is_refused(open_app: RunningApp) -> None:
    """DNS rebinding: evil.example resolved to 127.0.0.1 must not pass for ustad's own origin."""
    host, port = open_app.address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET /ws/learn HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    assert status_line.split()[1] == b"400"
    async with httpx.AsyncClient(base_url=f"http://{open_app.address}") as http:
        assert (await http.get("/health", headers={"Host": "evil.example"})).status_code == 400
        assert (await http.get("/health")).status_code == 200
