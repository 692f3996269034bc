"""scripts/fleet.sh: nginx in front of two real workers sharing PostgreSQL, Redis and the
audio directory, started, used for one learn cycle through nginx, and stopped."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.api.conftest import connect
from tests.conftest import REPO_ROOT, UrduClip
from tests.runtime.shared_tier import PrivateRedis
from tests.store.conftest import POSTGRES_DSN

pytestmark = [pytest.mark.fleet, pytest.mark.models, pytest.mark.postgres]

FLEET = REPO_ROOT / "scripts" / "fleet.sh"
_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


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

    def __init__(
        self, directory: Path, port: int, env: dict[str, str], redis: PrivateRedis
    ) -> None:
        self.directory = directory
        self.redis = redis
        """The fleet's own Redis, which a test may kill and start again."""
        self.address = f"127.0.0.1:{port}"
        self.port = port
        self.env = env
        self.database = ""
        """The fleet's PostgreSQL database."""

    def worker_address(self, worker: int) -> str:
        """``host:port`` of worker ``worker`` (1-based), bypassing nginx."""
        return f"127.0.0.1:{self.port + worker}"

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

    async def metrics(self, worker: int) -> dict[tuple[str, str], float]:
        """Worker ``worker``'s ``/metrics``: (series name, labels) to value."""
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.get(f"http://{self.worker_address(worker)}/metrics")
        response.raise_for_status()
        series: dict[tuple[str, str], float] = {}
        for line in response.text.splitlines():
            found = _SAMPLE.match(line)
            if found:
                series[(found["name"], found["labels"] or "")] = float(found["value"])
        return series

    def pids(self) -> list[int]:
        """Every pid file's process: nginx's master and the workers."""
        files = [*self.directory.glob("worker-*.pid"), self.directory / "nginx" / "nginx.pid"]
        return [int(f.read_text()) for f in files if f.exists()]


@pytest.fixture(scope="module")
async def fleet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    """One fleet of two workers for the whole module (it is slow to start), with a Redis
    of its own."""
    unique = uuid.uuid4().hex[:12]
    database = f"ustad_test_fleet_{unique}"
    redis = PrivateRedis(tmp_path_factory.mktemp("fleet-redis"))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "USTAD_PYTHON": sys.executable,
        "FLEET_PG_ADMIN": POSTGRES_DSN,
        "FLEET_DB": database,
        "USTAD_REDIS__URL": redis.url,
        # No background synthesis of the whole phrase bank competing with the test.
        "USTAD_AUDIO_STORE__PREGENERATE_PHRASES": "false",
    }
    fleet = Fleet(tmp_path_factory.mktemp("fleet"), _free_port_run(3), env, redis)
    fleet.database = database
    pids: list[int] = []
    try:
        redis.start()
        started = fleet.run("start", "--workers", "2", "--port", str(fleet.port), timeout=900)
        pids = fleet.pids()
        assert started.returncode == 0, started.stdout + started.stderr
        assert len(pids) == 3
        yield fleet
    finally:
        pids = pids or fleet.pids()
        stopped = fleet.run("stop", timeout=300)
        await _drop_database(database)
        redis.stop()
    left = [pid for pid in pids if _alive(pid)]
    for pid in left:  # a failed stop must not leave workers running on the machine
        os.kill(pid, signal.SIGKILL)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert left == []


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


def _total(series: dict[tuple[str, str], float], name: str, label: str = "") -> float:
    """The sum of ``name``'s samples whose labels contain ``label``."""
    return sum(v for (n, labels), v in series.items() if n == name and label in labels)


def _synthesis(series: dict[tuple[str, str], float]) -> float:
    """Engine calls that synthesise speech (local voices and remote TTS)."""
    return sum(
        v
        for (n, labels), v in series.items()
        if n == "ustad_engine_calls_total" and ('kind="tts_' in labels or "remote_tts" in labels)
    )


async def _english_attempt(fleet: Fleet, english: str) -> bytes:
    """The target sentence in Piper's voice, fetched through nginx."""
    async with httpx.AsyncClient(base_url=f"http://{fleet.address}", timeout=300) as http:
        spoken = await http.post(
            "/v1/audio/speech", json={"input": english, "voice": "en", "response_format": "wav"}
        )
    spoken.raise_for_status()
    return spoken.content


async def _stored_rows(database: str, learner: str) -> dict[str, list[tuple[object, ...]]]:
    """The learner's sessions, cycles and turns in the fleet's database."""
    db = await asyncpg.connect(POSTGRES_DSN, database=database, timeout=10)
    try:
        sessions = await db.fetch(
            "SELECT s.id FROM sessions s JOIN learners l ON l.id = s.learner_id"
            " WHERE l.external_id = $1",
            learner,
        )
        ids = [row["id"] for row in sessions]
        cycles = await db.fetch(
            "SELECT id, status, attempts FROM cycles WHERE session_id = ANY($1::int[])", ids
        )
        turns = await db.fetch(
            "SELECT turn_id, kind, cycle_id, passed FROM turns"
            " WHERE session_id = ANY($1::int[]) ORDER BY created_at",
            ids,
        )
    finally:
        await db.close()
    return {
        "sessions": [tuple(r) for r in sessions],
        "cycles": [tuple(r) for r in cycles],
        "turns": [tuple(r) for r in turns],
    }


async def test_a_cycle_dropped_on_one_worker_is_finished_on_the_other(
    fleet: Fleet, urdu_clips: list[UrduClip]
) -> None:
    learner = str(uuid.uuid4())
    clip = min(urdu_clips, key=lambda c: c.path.stat().st_size)
    before = [await fleet.metrics(1), await fleet.metrics(2)]

    # First leg through nginx; the worker that recognised the Urdu is worker A.
    async with connect(fleet.address, f"?learner_id={learner}") as client:
        await client.say(clip.path.read_bytes(), "urdu")
        you_said = await client.receive(300)
        assert you_said.step == "you_said_audio", you_said.data
        token = you_said.data["resume_token"]
        english = you_said.data["english_sentence"]
    # The connection dropped before acknowledging you_said_audio.
    after = [await fleet.metrics(1), await fleet.metrics(2)]
    recognised = [
        _total(after[i], "ustad_engine_calls_total", 'kind="stt_')
        - _total(before[i], "ustad_engine_calls_total", 'kind="stt_')
        for i in range(2)
    ]
    assert sorted(recognised)[0] == 0 < sorted(recognised)[1], recognised
    worker_b = 2 if recognised[0] > 0 else 1

    # Second leg directly on worker B, with the token: the same cycle goes on.
    query = f"?learner_id={learner}&resume_token={token}"
    async with connect(fleet.worker_address(worker_b), query) as client:
        session = await client.receive(60)
        assert session.step == "session", session.data
        assert session.data["resumed"] is True, session.data
        again = await client.receive(300)
        assert again.step == "you_said_audio", again.data
        assert again.data["english_sentence"] == english
        await client.ack("you_said_complete")
        assert (await client.receive(300)).step == "repeat_prompt"
        await client.ack("word_by_word_complete")
        assert (await client.receive(300)).step == "full_sentence_audio"
        await client.say(await _english_attempt(fleet, english), audio_format="wav")
        done = await client.receive(300)
        assert done.step == "await_next", done.data
        assert done.data["is_true"] is True

    # Stored once each: one session, one cycle (passed), one Urdu and one English turn.
    # Writes may reach the database a moment after the reply (bounded: 60 polls).
    rows: dict[str, list[tuple[object, ...]]] = {}
    for _ in range(60):
        rows = await _stored_rows(fleet.database, learner)
        if len(rows["turns"]) >= 2 and rows["cycles"] and rows["cycles"][0][1] == "passed":
            break
        await asyncio.sleep(0.5)
    assert len(rows["sessions"]) == 1, rows
    assert len(rows["cycles"]) == 1, rows
    cycle_id, status, _attempts = rows["cycles"][0]
    assert status == "passed", rows
    assert [(kind, cycle) for _, kind, cycle, _ in rows["turns"]] == [
        ("urdu", cycle_id),
        ("english", cycle_id),
    ], rows
    assert rows["turns"][1][3] is True


async def test_a_reply_synthesised_on_one_worker_is_not_synthesised_on_the_other(
    fleet: Fleet, urdu_clips: list[UrduClip]
) -> None:
    # A sentence this module has not used yet: its reply is new to both workers.
    clip = sorted(urdu_clips, key=lambda c: c.path.stat().st_size)[1]
    replies: list[str] = []
    deltas: list[tuple[float, float, float, float]] = []
    # The shared audio directory would answer B before Redis: A's new reply-key index
    # files are removed after its turn, so B has only Redis to find A's audio in.
    keys = fleet.directory / "audio" / "keys"
    indexed = set(keys.rglob("*"))
    for worker in (1, 2):
        if worker == 2:
            added = [path for path in keys.rglob("*") if path.is_file() and path not in indexed]
            assert added, "worker A stored no new reply"
            for path in added:
                path.unlink()
        before = await fleet.metrics(worker)
        async with connect(fleet.worker_address(worker), f"?learner_id={uuid.uuid4()}") as client:
            await client.say(clip.path.read_bytes(), "urdu")
            you_said = await client.receive(300)
            assert you_said.step == "you_said_audio", you_said.data
            replies.append(you_said.data["english_sentence"])
        after = await fleet.metrics(worker)
        deltas.append(
            (
                _synthesis(after) - _synthesis(before),
                _total(after, "ustad_speech_requests_total", 'kind="tts_replies"')
                - _total(before, "ustad_speech_requests_total", 'kind="tts_replies"'),
                _total(after, "ustad_shared_cache_writes_total", 'cache="tts_audio"')
                - _total(before, "ustad_shared_cache_writes_total", 'cache="tts_audio"'),
                _total(after, "ustad_shared_cache_hits_total", 'cache="tts_audio"')
                - _total(before, "ustad_shared_cache_hits_total", 'cache="tts_audio"'),
            )
        )
    assert replies[0] == replies[1]
    (a_synth, a_replies, a_shared, _), (b_synth, b_replies, _, b_hits) = deltas
    # A synthesised the reply and wrote it to Redis; B was asked for it, found it in
    # Redis and synthesised nothing.
    assert a_synth > 0 and a_replies >= 1 and a_shared >= 1, deltas
    assert b_replies >= 1 and b_hits >= 1 and b_synth == 0, deltas


async def _cycle(fleet: Fleet, address: str, clip: UrduClip, attempt: dict[str, bytes]) -> bool:
    """One learner's whole cycle on ``address`` (nginx or one worker): whether it passed.
    ``attempt`` caches each target's English attempt (Piper's reading, through nginx)."""
    async with connect(address, f"?learner_id={uuid.uuid4()}") as client:
        await client.say(clip.path.read_bytes(), "urdu")
        you_said = await client.receive(300)
        assert you_said.step == "you_said_audio", you_said.data
        english = you_said.data["english_sentence"]
        await client.ack("you_said_complete")
        assert (await client.receive(300)).step == "repeat_prompt"
        await client.ack("word_by_word_complete")
        assert (await client.receive(300)).step == "full_sentence_audio"
        if english not in attempt:
            attempt[english] = await _english_attempt(fleet, english)
        await client.say(attempt[english], audio_format="wav")
        done = await client.receive(300)
        assert done.step == "await_next", done.data
        return bool(done.data["is_true"])


async def _redis_up(fleet: Fleet, worker: int, want: float) -> bool:
    """Polls the worker's ``ustad_redis_up`` until it reads ``want`` (bounded: 120 polls)."""
    for _ in range(120):
        if (await fleet.metrics(worker)).get(("ustad_redis_up", "")) == want:
            return True
        await asyncio.sleep(0.5)
    return False


async def test_turns_keep_succeeding_while_redis_is_killed_and_restarted(
    fleet: Fleet, urdu_clips: list[UrduClip]
) -> None:
    pids = fleet.pids()
    attempts: dict[str, bytes] = {}
    addresses = [fleet.address, fleet.address, fleet.worker_address(1), fleet.worker_address(2)]
    before = [await fleet.metrics(1), await fleet.metrics(2)]

    # Redis dies as a crash would; four learners (two through nginx, one on each worker
    # directly) go through whole cycles at once meanwhile.
    fleet.redis.stop()
    clips = [urdu_clips[i % len(urdu_clips)] for i in range(len(addresses))]
    passed = await asyncio.gather(
        *(_cycle(fleet, a, c, attempts) for a, c in zip(addresses, clips, strict=True))
    )
    assert all(passed), passed
    for worker in (1, 2):
        assert await _redis_up(fleet, worker, 0.0), f"worker {worker} never read Redis down"

    # A resume token parked while Redis is down fails politely: a new cycle, not an error.
    learner = str(uuid.uuid4())
    async with connect(fleet.address, f"?learner_id={learner}") as client:
        await client.say(clips[0].path.read_bytes(), "urdu")
        you_said = await client.receive(300)
        assert you_said.step == "you_said_audio", you_said.data
    query = f"?learner_id={learner}&resume_token={you_said.data['resume_token']}"
    async with connect(fleet.address, query) as client:
        session = await client.receive(60)
        assert session.step == "session", session.data
        assert session.data["resumed"] is False, session.data

    # Redis comes back: the same workers use it again, with no restart, and serve on.
    fleet.redis.start()
    restarted = [await fleet.metrics(1), await fleet.metrics(2)]
    passed = await asyncio.gather(
        *(_cycle(fleet, a, c, attempts) for a, c in zip(addresses, clips, strict=True))
    )
    assert all(passed), passed
    for worker in (1, 2):
        assert await _redis_up(fleet, worker, 1.0), f"worker {worker} did not use Redis again"
    after = [await fleet.metrics(1), await fleet.metrics(2)]
    for b, r, a in zip(before, restarted, after, strict=True):
        assert r[("ustad_redis_errors_total", "")] > b[("ustad_redis_errors_total", "")]
        assert a[("ustad_redis_commands_total", "")] > r[("ustad_redis_commands_total", "")]
    assert fleet.pids() == pids
