"""Admission control: a full process, idle and non-reading sessions, REST's share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.api.conftest import RunningApp, Script, fake_services_factory, make_settings, serve
from ustad.api.admission import RestSlots, SessionSlots
from ustad.api.errors import ApiError
from ustad.api.learn_socket import NotReadingError, WebSocketPort
from ustad.app import create_app
from ustad.settings import LimitSettings


@pytest.fixture
def small(tmp_path: Path) -> Iterator[RunningApp]:
    base = make_settings(tmp_path)
    limits = LimitSettings(max_sessions=1, idle_seconds=1.0)
    settings = base.model_copy(update={"limits": limits})
    script = Script()
    app = create_app(settings, services_factory=fake_services_factory(script))
    with serve(app, settings) as address:
        yield RunningApp(address, settings, script)


async def test_a_full_process_refuses_the_handshake_with_a_retry_hint(small: RunningApp) -> None:
    url = f"ws://{small.address}/ws/learn"
    async with websockets.connect(url) as first:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(url):
                pass
        assert refused.value.response.status_code == 503
        assert int(refused.value.response.headers["Retry-After"]) > 0
        await first.send('{"type": "bogus"}')
        assert "unknown_message" in str(await first.recv())  # the first one is served
    for _ in range(300):  # once the server has finished closing the first session,
        try:  # its slot is given back
            async with websockets.connect(url) as again:
                await again.send('{"type": "bogus"}')
                assert "unknown_message" in str(await again.recv())
                break
        except InvalidStatus:
            await asyncio.sleep(0.05)
    else:
        pytest.fail("the slot of a closed session was never given back")
    async with httpx.AsyncClient(base_url=f"http://{small.address}") as http:
        ended = (await http.get("/v1/stats")).json()["sessions_ended"]
    assert ended.get("full", 0) >= 1


async def test_an_idle_session_is_closed_and_counted(small: RunningApp) -> None:
    async with websockets.connect(f"ws://{small.address}/ws/learn") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    async with httpx.AsyncClient(base_url=f"http://{small.address}") as http:
        ended = (await http.get("/v1/stats")).json()["sessions_ended"]
    assert ended.get("idle") == 1


class StuckSocket:
    """A WebSocket whose client never reads: every send waits forever."""

    application_state = None

    async def send_json(self, data: Any) -> None:
        await asyncio.Event().wait()

    async def send_bytes(self, data: bytes) -> None:
        await asyncio.Event().wait()


async def test_a_client_that_stops_reading_is_detected() -> None:
    from starlette.websockets import WebSocketState

    socket = StuckSocket()
    socket.application_state = WebSocketState.CONNECTED  # type: ignore[assignment]
    port = WebSocketPort(socket, send_timeout=0.05)  # type: ignore[arg-type]
    with pytest.raises(NotReadingError):
        await port.send_audio(b"x" * 1000)


def test_session_slots_count_up_to_the_cap() -> None:
    slots = SessionSlots(2)
    assert slots.take() and slots.take() and not slots.take()
    slots.give_back()
    assert slots.take()


async def test_rest_gets_its_slots_then_a_short_queue_then_503() -> None:
    slots = RestSlots(concurrent=1, queued=1)
    release = asyncio.Event()
    entered: list[int] = []

    async def request(number: int) -> None:
        async with slots.slot():
            entered.append(number)
            await release.wait()

    first = asyncio.create_task(request(1))
    second = asyncio.create_task(request(2))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert entered == [1] and slots.waiting == 1
    with pytest.raises(ApiError) as busy:
        async with slots.slot():
            pass
    assert busy.value.status == 503 and busy.value.headers is not None
    assert "Retry-After" in busy.value.headers and slots.refused == 1
    release.set()
    await asyncio.gather(first, second)
    assert entered == [1, 2]


async def test_rest_waits_for_the_learners_turns_in_flight() -> None:
    slots = RestSlots(concurrent=1, queued=1, yield_seconds=60)
    learners_idle = asyncio.Event()  # a learner's turn is in flight
    entered = asyncio.Event()

    async def request() -> None:
        async with slots.slot(learners_idle):
            entered.set()

    task = asyncio.create_task(request())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not entered.is_set()
    learners_idle.set()  # the turn is done
    await asyncio.wait_for(task, 10)
    assert entered.is_set()


async def test_rest_is_never_starved_past_its_yield_bound() -> None:
    slots = RestSlots(concurrent=1, queued=1, yield_seconds=0.01)
    async with slots.slot(asyncio.Event()):  # learners never idle
        pass
