"""scripts/fleet.sh: nginx in front of two real workers sharing PostgreSQL, Redis and the
audio directory, started, used for one learn cycle through nginx, and stopped."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from tests.api.conftest import connect
from tests.conftest import REPO_ROOT, UrduClip
from tests.store.conftest import POSTGRES_DSN

pytestmark = [pytest.mark.fleet, pytest.mark.models, pytest.mark.postgres]

FLEET = REPO_ROOT / "scripts" / "fleet.sh"
REDIS_URL = "redis://127.0.0.1:6379/15"


def _free_port_run(count: int) -> int:
    """A port P with P .. P+count-1 all free on 127.0.0.1 (at the time of asking)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no run of free ports")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_DSN, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class Fleet:
    """A started fleet: nginx's address and the fleet directory."""

    def __init__(self, directory: Path, port: int, env: dict[str, str]) -> None:
        self.directory = directory
        self.address = f"127.0.0.1:{port}"
        self.port = port
        self.env = env

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """``fleet.sh <args> --dir <directory>``, niced."""
        return subprocess.run(
            ["nice", "-n", "10", "bash", str(FLEET), *args, "--dir", str(self.directory)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pids(self) -> list[int]:
        """Every pid file's process: nginx's master and the workers."""
        files = [*self.directory.glob("worker-*.pid"), self.directory / "nginx" / "nginx.pid"]
        return [int(f.read_text()) for f in files if f.exists()]


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    unique = uuid.uuid4().hex[:12]
    database = f"ustad_test_fleet_{unique}"
    prefix = f"ustad-test-fleet-{unique}:"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "USTAD_PYTHON": sys.executable,
        "FLEET_PG_ADMIN": POSTGRES_DSN,
        "FLEET_DB": database,
        "USTAD_REDIS__URL": REDIS_URL,
        "USTAD_REDIS__KEY_PREFIX": prefix,
        # No background synthesis of the whole phrase bank competing with the test.
        "USTAD_AUDIO_STORE__PREGENERATE_PHRASES": "false",
    }
    fleet = Fleet(tmp_path / "fleet", _free_port_run(3), env)
    pids: list[int] = []
    try:
        started = fleet.run("start", "--workers", "2", "--port", str(fleet.port), timeout=900)
        pids = fleet.pids()
        assert started.returncode == 0, started.stdout + started.stderr
        assert len(pids) == 3
        yield fleet
    finally:
        pids = pids or fleet.pids()
        stopped = fleet.run("stop", timeout=300)
        await _drop_database(database)
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert [pid for pid in pids if _alive(pid)] == []


async def test_fleet_serves_from_both_workers_and_runs_a_learn_cycle(
    fleet: Fleet, urdu_clips: list[UrduClip]
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{fleet.address}", timeout=60) as http:
        workers = set()
        for _ in range(6):
            response = await http.get("/health")
            assert response.status_code == 200
            workers.add(response.headers["X-Ustad-Worker"])
        assert workers == {"worker-1", "worker-2"}

        status = await asyncio.to_thread(
            subprocess.run,
            ["bash", str(FLEET), "status", "--dir", str(fleet.directory)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0, status.stdout

        # One learn cycle through nginx's WebSocket proxy: real Urdu in, the target said
        # (in Piper's voice, fetched through nginx too) passes.
        async with connect(fleet.address, f"?learner_id={uuid.uuid4()}") as client:
            shortest = min(urdu_clips, key=lambda clip: clip.path.stat().st_size)
            await client.say(shortest.path.read_bytes(), "urdu")
            you_said = await client.receive(300)
            assert you_said.step == "you_said_audio", you_said.data
            english = you_said.data["english_sentence"]
            await client.ack("you_said_complete")
            assert (await client.receive(300)).step == "repeat_prompt"
            await client.ack("word_by_word_complete")
            assert (await client.receive(300)).step == "full_sentence_audio"
            spoken = await http.post(
                "/v1/audio/speech",
                json={"input": english, "voice": "en", "response_format": "wav"},
            )
            spoken.raise_for_status()
            await client.say(spoken.content, audio_format="wav")
            done = await client.receive(300)
            assert done.step == "await_next", done.data
            assert done.data["is_true"] is True
