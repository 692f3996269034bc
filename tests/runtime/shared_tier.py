"""Test helpers for the shared tier: clients on the shared Redis's database 15 under a
prefix of their own, and the deletion of every key a test wrote."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tests.api.conftest import Script, fake_services_factory, make_settings, serve
from ustad.app import create_app
from ustad.redis_settings import RedisSettings
from ustad.runtime.redis_client import redis_from_settings
from ustad.runtime.redis_tier import RedisTier
from ustad.settings import LimitSettings

REDIS_URL = "redis://127.0.0.1:6379/15"


def unique_prefix() -> str:
    """A key prefix no other test (or engineer) uses."""
    return f"ustad-test-{uuid.uuid4().hex[:12]}:"


def redis_settings(prefix: str, url: str = REDIS_URL, **fields: Any) -> RedisSettings:
    """Settings of a test's shared tier (short breaker reset so recovery is quick)."""
    fields.setdefault("breaker_reset_seconds", 0.2)
    return RedisSettings(url=SecretStr(url), key_prefix=prefix, **fields)


@asynccontextmanager
async def tiers(prefix: str, url: str = REDIS_URL, **fields: Any) -> AsyncIterator[TierMaker]:
    """Make tiers (one per pretend worker) that share ``prefix``; on exit, close them and
    delete every key under the prefix from the shared Redis."""
    made: list[RedisTier] = []

    def make(url: str = url, **overrides: Any) -> RedisTier:
        settings = redis_settings(prefix, url, **{**fields, **overrides})
        client = redis_from_settings(settings)
        assert client is not None
        tier = RedisTier(client, settings)
        made.append(tier)
        return tier

    try:
        yield make
    finally:
        for tier in made:
            await tier.client.aclose()
        await delete_prefix(prefix)


async def delete_prefix(prefix: str) -> None:
    """Delete every key under ``prefix`` in the test database."""
    client = redis_from_settings(redis_settings(prefix))
    assert client is not None
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


TierMaker = Callable[..., RedisTier]


@dataclass
class Pair:
    """Two apps sharing one Redis prefix: ``a`` and ``b`` are ``host:port``."""

    a: str
    b: str


@contextlib.contextmanager
def two_workers(
    tmp_path: Path, prefix: str, limits: LimitSettings | None, **redis: Any
) -> Iterator[Pair]:
    """Two served apps with fake engines (two workers) sharing the test Redis under
    ``prefix``, with ``limits`` (``None``: the defaults) and ``redis`` settings."""
    addresses = []
    with contextlib.ExitStack() as stack:
        for name in ("a", "b"):
            base = make_settings(tmp_path / name)
            update: dict[str, Any] = {"redis": redis_settings(prefix, **redis)}
            if limits is not None:
                update["limits"] = limits
            settings = base.model_copy(update=update)
            app = create_app(settings, services_factory=fake_services_factory(Script()))
            addresses.append(stack.enter_context(serve(app, settings)))
        yield Pair(*addresses)


class PrivateRedis:
    """A ``redis-server`` of the test's own on a free loopback port, which the test may
    stop (as a crash would) and start again on the same port. Nothing is saved."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    """A started ``PrivateRedis``, stopped on exit."""
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
