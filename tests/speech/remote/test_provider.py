"""The remote provider: retries, backoff, bounded answers, the circuit breaker, counts."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.speech.remote.helpers import BASE_URL, Scripted, fast, ok_json, refused, status
from ustad.speech.remote.provider import Answer, RemoteError, RemoteProvider


def raw(answer: Answer) -> bytes:
    return answer.content


def provider(script: Scripted, **settings: object) -> RemoteProvider:
    return RemoteProvider("stt", fast(**settings), transport=script.transport)


async def test_a_call_reaches_the_path_under_the_base_url_with_the_key() -> None:
    script = Scripted([ok_json({"ok": True})])
    remote = RemoteProvider("stt", fast(api_key="sk-test"), transport=script.transport)
    assert await remote.post("audio/transcriptions", raw, json={"a": 1}) == b'{"ok":true}'
    (request,) = script.requests
    assert str(request.url) == f"{BASE_URL}/audio/transcriptions"
    assert request.headers["authorization"] == "Bearer sk-test"
    stats = remote.stats()
    assert (stats.calls, stats.attempts, stats.errors, stats.latency_count) == (1, 1, {}, 1)
    await remote.aclose()


async def test_a_provider_without_a_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="base_url"):
        RemoteProvider("stt", fast(base_url=None))


@pytest.mark.parametrize(
    ("failure", "kind"),
    [(status(503), "server"), (status(429), "rate_limited"), (refused, "connect")],
)
async def test_passing_failures_are_retried_then_succeed(failure: object, kind: str) -> None:
    script = Scripted([failure, failure, ok_json({"ok": 1})])  # type: ignore[list-item]
    remote = provider(script, retries=2)
    assert await remote.post("x", raw) == b'{"ok":1}'
    assert len(script.requests) == 3
    assert remote.stats().errors == {}


async def test_retries_stop_after_the_last_attempt() -> None:
    script = Scripted([status(502)])
    remote = provider(script, retries=2)
    with pytest.raises(RemoteError) as raised:
        await remote.post("x", raw)
    assert raised.value.kind == "server"
    assert len(script.requests) == 3
    assert remote.stats().errors == {"server": 1}


@pytest.mark.parametrize("code", [400, 401, 404])
async def test_client_errors_are_not_retried(code: int) -> None:
    script = Scripted([status(code)])
    remote = provider(script, retries=3)
    with pytest.raises(RemoteError, match=f"HTTP {code}") as raised:
        await remote.post("x", raw)
    assert raised.value.kind == "client"
    assert len(script.requests) == 1


async def test_a_malformed_answer_is_not_retried_and_counts() -> None:
    script = Scripted([ok_json({"ok": 1})])
    remote = provider(script, retries=3)

    def parse(answer: Answer) -> int:
        raise ValueError("not the shape promised")

    with pytest.raises(RemoteError) as raised:
        await remote.post("x", parse)
    assert raised.value.kind == "malformed"
    assert len(script.requests) == 1


async def test_an_answer_over_the_limit_is_refused() -> None:
    big = b"x" * 5000
    script = Scripted([lambda request: httpx.Response(200, content=big)])
    remote = provider(script, max_response_bytes=4096, retries=0)
    with pytest.raises(RemoteError) as raised:
        await remote.post("x", raw)
    assert raised.value.kind == "too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"y" * 1000

    # No Content-Length: refused as the bytes arrive, not after reading them all.
    streamed = Scripted([lambda request: httpx.Response(200, content=chunks())])
    remote = provider(streamed, max_response_bytes=4096, retries=0)
    with pytest.raises(RemoteError, match="over 4096"):
        await remote.post("x", raw)


async def test_a_slow_attempt_times_out_and_is_retried() -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(1.0)
        return httpx.Response(200, json={"ok": calls})

    remote = RemoteProvider(
        "stt", fast(timeout_seconds=0.1), transport=httpx.MockTransport(handler)
    )
    assert await remote.post("x", raw) == b'{"ok":2}'
    assert remote.stats().attempts == 2


async def test_the_breaker_opens_fails_fast_probes_once_and_closes() -> None:
    script = Scripted([refused])
    remote = provider(script, retries=0, breaker_failures=3, breaker_reset_seconds=0.2)
    for _ in range(3):
        with pytest.raises(RemoteError, match="connect"):
            await remote.post("x", raw)
    assert remote.stats().breaker_state == "open"
    # Open: no request is made at all.
    with pytest.raises(RemoteError) as raised:
        await remote.post("x", raw)
    assert raised.value.kind == "breaker_open"
    assert len(script.requests) == 3

    # After the reset time one probe goes through; a failed probe opens it again.
    await asyncio.sleep(0.25)
    with pytest.raises(RemoteError, match="connect"):
        await remote.post("x", raw)
    assert len(script.requests) == 4
    assert remote.stats().breaker_state == "open"
    assert remote.stats().breaker_opened == 2

    # The provider is back: the next probe succeeds and closes the breaker.
    script.answers = [ok_json({"ok": 1})]
    await asyncio.sleep(0.25)
    assert await remote.post("x", raw) == b'{"ok":1}'
    assert remote.stats().breaker_state == "closed"
    assert await remote.post("x", raw) == b'{"ok":1}'
    assert remote.stats().errors == {"breaker_open": 1, "connect": 4}


async def test_while_half_open_only_one_probe_is_in_flight() -> None:
    release, entered = asyncio.Event(), asyncio.Event()
    failing = True

    async def handler(request: httpx.Request) -> httpx.Response:
        if failing:
            raise httpx.ConnectError("refused", request=request)
        entered.set()
        await release.wait()
        return httpx.Response(200, json={"ok": 1})

    remote = RemoteProvider(
        "stt",
        fast(retries=0, breaker_failures=1, breaker_reset_seconds=0.1),
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(RemoteError):
        await remote.post("x", raw)
    failing = False
    await asyncio.sleep(0.15)
    probe = asyncio.create_task(remote.post("x", raw))
    await asyncio.wait_for(entered.wait(), 5)
    # A second caller while the probe is out fails fast instead of piling on.
    with pytest.raises(RemoteError) as raised:
        await remote.post("x", raw)
    assert raised.value.kind == "breaker_open"
    release.set()
    assert await probe == b'{"ok":1}'
    assert remote.stats().breaker_state == "closed"
