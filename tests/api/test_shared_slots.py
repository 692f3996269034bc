"""The session cap and the rate limits shared through Redis by two apps (two workers),
and what each worker does while Redis does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.api.conftest import Script, connect, fake_services_factory, make_settings, serve
from tests.runtime.shared_tier import (
    delete_prefix,
    private_redis,
    redis_settings,
    tiers,
    two_workers,
    unique_prefix,
)
from ustad.api.rate_limits import RateLimits
from ustad.api.shared_slots import SharedSessionCap
from ustad.app import create_app
from ustad.settings import LimitSettings


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    chosen = unique_prefix()
    yield chosen
    await delete_prefix(chosen)


async def _refused(url: str) -> int | None:
    """The status a handshake to ``url`` was refused with (``None``: admitted)."""
    try:
        async with websockets.connect(url):
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_the_session_cap_counts_every_worker(tmp_path: Path, prefix: str) -> None:
    limits = LimitSettings(max_sessions=5)
    with two_workers(tmp_path, prefix, limits, session_cap=1) as pair:
        async with websockets.connect(f"ws://{pair.a}/ws/learn") as held:
            await held.send('{"type": "bogus"}')
            assert "unknown_message" in str(await held.recv())
            for _ in range(100):  # B learns of A's session at its next refresh
                status = await _refused(f"ws://{pair.b}/ws/learn")
                if status is not None:
                    break
                await asyncio.sleep(0.05)
            assert status == 503
            async with httpx.AsyncClient(base_url=f"http://{pair.b}") as http:
                limits_b = (await http.get("/v1/stats")).json()["shared_limits"]
                metrics = (await http.get("/metrics")).text
            assert limits_b["fleet_sessions"] == 1 and limits_b["fleet_refused"] >= 1
            assert "ustad_shared_limits_fleet_refused_total" in metrics
        for _ in range(100):  # A's session ended: B admits again
            if await _refused(f"ws://{pair.b}/ws/learn") is None:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("B never admitted a session after A's ended")


async def test_the_client_rate_is_counted_across_workers(tmp_path: Path, prefix: str) -> None:
    limits = LimitSettings(client_rate="4/minute")
    with two_workers(tmp_path, prefix, limits) as pair:
        statuses = []
        for address in (pair.a, pair.b, pair.a, pair.b, pair.a, pair.b):
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                statuses.append((await http.get("/health")).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_a_crashed_worker_stops_counting_when_its_lease_ends() -> None:
    async with tiers(unique_prefix()) as make:
        crashed = SharedSessionCap(make(), cap=3, lease_seconds=1.0)
        alive = SharedSessionCap(make(), cap=3, lease_seconds=1.0)
        await crashed.refresh(2)  # then never again
        await alive.refresh(1)
        assert alive.others == 2
        assert alive.allows(0) and not alive.allows(1)
        for _ in range(100):
            await alive.refresh(1)
            if alive.others == 0:
                break
            await asyncio.sleep(0.05)
        assert alive.others == 0 and alive.allows(2)


async def test_a_stopped_worker_withdraws_its_sessions() -> None:
    async with tiers(unique_prefix()) as make:
        leaving = SharedSessionCap(make(), cap=3, lease_seconds=60.0)
        staying = SharedSessionCap(make(), cap=3, lease_seconds=60.0)
        leaving.begin(lambda: 2)
        await staying.refresh(0)
        for _ in range(100):
            if staying.others == 2:
                break
            await asyncio.sleep(0.02)
            await staying.refresh(0)
        assert staying.others == 2
        await leaving.stop()
        await staying.refresh(0)
        assert staying.others == 0


async def test_without_redis_each_worker_admits_up_to_its_own_cap() -> None:
    async with tiers(unique_prefix(), url="redis://127.0.0.1:9/15") as make:
        cap = SharedSessionCap(make(socket_timeout_seconds=0.2), cap=1, lease_seconds=5.0)
        await cap.refresh(3)
        assert cap.others is None and cap.allows(3)


async def test_without_redis_rate_limits_fall_back_to_the_worker(tmp_path: Path) -> None:
    async with tiers(unique_prefix(), url="redis://127.0.0.1:9/15") as make:
        limits = RateLimits(LimitSettings(client_rate="2/minute"))
        limits.share(make(socket_timeout_seconds=0.2))
        waits = [await limits.client("10.0.0.1") for _ in range(3)]
        assert waits[:2] == [None, None] and waits[2] is not None
        assert limits.unshared == 3


async def test_anonymous_sessions_turn_rates_stay_with_their_worker() -> None:
    async with tiers(unique_prefix()) as make:
        tier = make()
        a, b = (
            RateLimits(LimitSettings(learner_turn_rate="1/minute")),
            RateLimits(LimitSettings(learner_turn_rate="1/minute")),
        )
        a.share(tier)
        b.share(tier)
        # The same id on two workers is two sessions; the same learner is one learner.
        assert await a.turn("session:140000") is None
        assert await b.turn("session:140000") is None
        assert await a.turn("learner-1") is None
        assert await b.turn("learner-1") is not None


async def test_a_worker_serves_on_while_its_redis_is_down_and_uses_it_again(
    tmp_path: Path, urdu_audio: bytes
) -> None:
    settings = make_settings(tmp_path)
    with private_redis(tmp_path) as redis:
        settings = settings.model_copy(
            update={
                "redis": redis_settings(
                    unique_prefix(), redis.url, session_cap=1, socket_timeout_seconds=0.2
                )
            }
        )
        app = create_app(settings, services_factory=fake_services_factory(Script()))
        with serve(app, settings) as address:
            async with connect(address) as client:
                await client.say(urdu_audio, "english")
                assert (await client.receive()).step == "you_said_audio"
                redis.stop()
                # Turns, new sessions and HTTP requests go on, served by the worker
                # alone: once it has found Redis gone (its next refresh), the shared cap
                # of 1 fails open and the worker admits up to its own cap.
                for _ in range(200):
                    if await _refused(f"ws://{address}/ws/learn") is None:
                        break
                    await asyncio.sleep(0.05)
                else:
                    pytest.fail("the shared cap did not fail open")
                async with connect(address) as second:
                    await second.say(urdu_audio, "urdu")
                    assert (await second.receive()).audio
                await client.ack("you_said_complete")
                assert (await client.receive()).step == "repeat_prompt"
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                health = (await http.get("/health")).json()
                assert health["status"] == "ok" and health["shared_tier"] == "down"
                redis.start()
                for _ in range(200):  # the breaker lets a probe through after its reset
                    health = (await http.get("/health")).json()
                    if health["shared_tier"] == "ok":
                        break
                    await asyncio.sleep(0.05)
                assert health["shared_tier"] == "ok"
                stats = (await http.get("/v1/stats")).json()
            assert stats["redis"]["breaker_opened"] >= 1
            assert stats["shared_limits"]["rate_checks_local"] >= 1


async def test_hostile_counts_in_redis_are_ignored_and_the_cap_keeps_refreshing() -> None:
    prefix = unique_prefix()
    async with tiers(prefix) as make:
        tier = make()
        other = SharedSessionCap(make(), cap=3, lease_seconds=60.0)
        await other.refresh(1)
        cap = SharedSessionCap(tier, cap=3, lease_seconds=60.0)
        counts, leases = tier.key("sessions", "counts"), tier.key("sessions", "leases")
        hostile = {"evil": "lots", "huge": "9" * 5000, "neg": "-7"}
        await tier.client.hset(counts, mapping={**hostile, "unleased": "1000"})
        await tier.client.zadd(leases, dict.fromkeys(hostile, 2**50))
        await cap.refresh(0)
        assert cap.others == 1
        await other.refresh(2)
        await cap.refresh(0)
        assert cap.others == 2 and cap.allows(0) and not cap.allows(1)


async def test_keys_of_the_wrong_type_do_not_stop_the_cap() -> None:
    async with tiers(unique_prefix()) as make:
        tier = make()
        other = SharedSessionCap(make(), cap=3, lease_seconds=60.0)
        await tier.client.set(tier.key("sessions", "leases"), b"not a sorted set")
        await tier.client.rpush(tier.key("sessions", "counts"), b"not a hash")
        await other.refresh(2)
        cap = SharedSessionCap(tier, cap=3, lease_seconds=60.0)
        await cap.refresh(0)
        assert cap.others == 2 and not cap.allows(1)


async def test_an_unforeseen_refresh_failure_does_not_stop_the_cap() -> None:
    async with tiers(unique_prefix()) as make:
        cap = SharedSessionCap(make(), cap=3, lease_seconds=1.0)
        calls = 0

        def open_here() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("unforeseen")
            return 1

        cap.begin(open_here)
        for _ in range(100):
            if calls >= 2:
                break
            cap.changed()
            await asyncio.sleep(0.05)
        await cap.stop()
        assert calls >= 2  # the task refreshed again after the failure
