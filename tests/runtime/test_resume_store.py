"""Parked sessions: tokens, single use, ownership and expiry, in-process and in Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from ustad.redis_settings import RedisSettings
from ustad.runtime.redis_client import redis_from_settings
from ustad.runtime.resume_store import (
    MemoryResumeStore,
    Parked,
    RedisResumeStore,
    ResumeStore,
    new_token,
    well_formed,
)

REDIS_URL = "redis://127.0.0.1:6379/15"
PARKED = Parked("3a1d6c2e-0f4b-4b8e-9d7c-1e2f3a4b5c6d", "a" * 32, {"learn": {"x": 1}})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ResumeStore]:
    if request.param == "memory":
        yield MemoryResumeStore(ttl=60, max_entries=100)
        return
    client = redis_from_settings(RedisSettings(url=SecretStr(REDIS_URL)))
    assert client is not None
    prefix = f"ustad-test-{uuid.uuid4().hex}:"
    try:
        yield RedisResumeStore(client, prefix, ttl=60)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def test_tokens_are_random_and_checked_by_shape() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(well_formed(token) for token in tokens)
    assert not well_formed("a" * 42) and not well_formed("a" * 44)
    assert not well_formed("a" * 42 + "!") and not well_formed("ä" * 43)


async def test_a_token_resumes_once(store: ResumeStore) -> None:
    token = new_token()
    assert await store.park(token, PARKED, "owner-1")
    assert await store.take(token) == PARKED
    assert await store.take(token) is None
    assert await store.take(new_token()) is None


async def test_parking_again_replaces_the_state(store: ResumeStore) -> None:
    token = new_token()
    await store.park(token, PARKED, "owner-1")
    later = Parked(PARKED.learner_id, PARKED.session_ref, {"learn": {"x": 2}})
    await store.park(token, later, "owner-1")
    assert await store.take(token) == later


async def test_a_replaced_owner_can_no_longer_park(store: ResumeStore) -> None:
    old_token, new = new_token(), new_token()
    await store.park(old_token, PARKED, "owner-1")
    await store.take(old_token)
    await store.claim(PARKED.session_ref, "owner-2")
    assert not await store.begin(PARKED.session_ref, "owner-1")
    assert await store.begin(PARKED.session_ref, "owner-2")
    # The replaced connection's late write must not bring its token back.
    assert not await store.park(old_token, PARKED, "owner-1")
    assert await store.take(old_token) is None
    assert await store.park(new, PARKED, "owner-2")


async def test_a_claim_waits_while_the_session_is_closing(store: ResumeStore) -> None:
    ref = PARKED.session_ref
    await store.claim(ref, "owner-1")
    assert await store.release(ref, "owner-1")
    assert not await store.claim(ref, "owner-2")
    await store.released(ref, "owner-1")
    assert await store.claim(ref, "owner-2")
    # Once taken over, the old connection may not end the session.
    assert not await store.release(ref, "owner-1")
    assert await store.begin(ref, "owner-2")


async def test_a_forced_claim_takes_a_session_left_closing(store: ResumeStore) -> None:
    ref = PARKED.session_ref
    assert await store.release(ref, "owner-1")
    assert await store.claim(ref, "owner-2", force=True)
    await store.released(ref, "owner-1")  # late: changes nothing
    assert not await store.begin(ref, "owner-1") and await store.begin(ref, "owner-2")


async def test_nobody_owns_an_unclaimed_session(store: ResumeStore) -> None:
    assert await store.begin("b" * 32, "anyone")


async def test_a_claim_waits_while_a_message_is_being_answered(store: ResumeStore) -> None:
    token, ref = new_token(), PARKED.session_ref
    await store.park(token, PARKED, "owner-1")
    assert await store.begin(ref, "owner-1")
    assert not await store.claim(ref, "owner-2")
    later = Parked(PARKED.learner_id, ref, {"learn": {"x": 2}})
    assert await store.park(token, later, "owner-1")  # the turn is answered: not busy
    assert await store.claim(ref, "owner-2")
    assert await store.take(token) == later


async def test_memory_entries_expire_and_are_bounded() -> None:
    clock = Clock()
    store = MemoryResumeStore(ttl=60, max_entries=2, clock=clock)
    token = new_token()
    await store.park(token, PARKED, "owner-1")
    clock.now = 61
    assert await store.take(token) is None
    tokens = [new_token() for _ in range(3)]
    for token in tokens:
        await store.park(token, PARKED, "owner-1")
    assert await store.take(tokens[0]) is None
    assert await store.take(tokens[2]) == PARKED


async def test_redis_keeps_json_under_a_hashed_key_with_a_ttl() -> None:
    client = redis_from_settings(RedisSettings(url=SecretStr(REDIS_URL)))
    assert client is not None
    prefix = f"ustad-test-{uuid.uuid4().hex}:"
    store = RedisResumeStore(client, prefix, ttl=60)
    token = new_token()
    try:
        await store.park(token, PARKED, "owner-1")
        keys = [key.decode() async for key in client.scan_iter(match=f"{prefix}*")]
        assert all(token not in key for key in keys)
        raw = await client.get(store.token_key(token))
        assert raw is not None
        data: dict[str, Any] = json.loads(raw)
        assert data["session_ref"] == PARKED.session_ref
        assert 0 < await client.ttl(store.token_key(token)) <= 60
        assert 0 < await client.ttl(store.owner_key(PARKED.session_ref)) <= 60
        # What expiry leaves behind: nothing, and the token is unknown.
        await client.delete(store.token_key(token))
        assert await store.take(token) is None
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"learner_id": 1}',
        b"{}",
        b"[" * 100_000,  # too deep to parse
        PARKED.to_json()[:-1] + b',"pad":"' + b"x" * 100_000 + b'"}',  # oversized
        b'{"learner_id": null, "session_ref": "a", "state": {"attempts": NaN}}',
    ],
)
def test_a_parked_value_that_is_not_one_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"parked|learner_id|state"):
        Parked.from_json(raw)


async def test_a_redis_that_is_down_trips_the_breaker() -> None:
    from purgatory.domain.model import OpenedState
    from redis.exceptions import RedisError

    # Port 9 (discard) has no listener here: every command fails.
    settings = RedisSettings(url=SecretStr("redis://127.0.0.1:9/15"), socket_timeout_seconds=0.2)
    client = redis_from_settings(settings)
    assert client is not None
    store = RedisResumeStore(client, "ustad-test:", ttl=60)
    failures: list[type[BaseException]] = []
    try:
        for _ in range(5):
            with pytest.raises((RedisError, OpenedState)) as caught:
                await store.take(new_token())
            failures.append(caught.type)
    finally:
        await client.aclose()
    assert failures[-1] is OpenedState
    assert all(issubclass(kind, RedisError) for kind in failures[:3])


async def test_redis_keys_of_another_type_are_dropped_not_failures() -> None:
    client = redis_from_settings(RedisSettings(url=SecretStr(REDIS_URL)))
    assert client is not None
    prefix = f"ustad-test-{uuid.uuid4().hex}:"
    store = RedisResumeStore(client, prefix, ttl=60)
    token, ref = new_token(), PARKED.session_ref

    async def spoil(key: str) -> None:
        await client.delete(key)
        await client.hset(key, mapping={"not": "ustad's"})

    try:
        await spoil(store.token_key(token))
        # More calls than the breaker's threshold: none of them fails.
        for _ in range(2):
            assert await store.take(token) is None
            await spoil(store.owner_key(ref))
            assert await store.begin(ref, "owner-1")
            await spoil(store.owner_key(ref))
            assert await store.park(token, PARKED, "owner-1")
            await spoil(store.owner_key(ref))
            assert await store.claim(ref, "owner-2")
            await spoil(store.owner_key(ref))
            await store.released(ref, "owner-2")
            assert await store.take(token) == PARKED
            await spoil(store.token_key(token))
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
