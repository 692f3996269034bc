"""The content-addressed disk store: round trips, restarts, concurrency, eviction, damage."""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.runtime.blocking import GUARD, BlockedEngine
from ustad.runtime.audio_store import AudioStore, StoredAudio
from ustad.runtime.executor import EngineExecutor
from ustad.settings import AudioFormat


@pytest.fixture
def io_pool() -> Iterator[EngineExecutor]:
    pool = EngineExecutor(4, name="io")
    yield pool
    pool.shutdown()


def audio(content: bytes, fmt: AudioFormat = "mp3") -> StoredAudio:
    return StoredAudio.of(content, fmt)


def audio_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("??/*") if not p.name.startswith("."))


def temp_files(root: Path) -> list[Path]:
    return list(root.rglob(".tmp-*"))


def key_files(root: Path) -> list[Path]:
    return [p for p in (root / "keys").rglob("*") if p.is_file()]


async def test_round_trip_is_content_addressed(tmp_path: Path, io_pool: EngineExecutor) -> None:
    store = AudioStore(tmp_path, io=io_pool)
    reply = audio(b"ID3 fake mp3 bytes" * 100)
    assert await store.get("reply-key") is None

    stored = await store.put("reply-key", reply)
    assert stored.on_disk and stored.data == reply.data
    digest = hashlib.sha256(reply.data).hexdigest()
    assert stored.digest == digest
    path = tmp_path / digest[:2] / f"{digest}.mp3"
    assert path.read_bytes() == reply.data
    assert audio_files(tmp_path) == [path]
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)  # readable by a web server

    found = await store.get("reply-key")
    assert found == stored
    assert await store.read(digest, "mp3") == reply.data
    assert await store.read(digest, "opus") is None  # same digest, other format: not stored
    assert await store.contains("reply-key")
    assert not await store.contains("other-key")
    stats = store.stats()
    assert (stats.hits, stats.misses, stats.writes, stats.files) == (2, 2, 1, 1)
    assert stats.bytes == len(reply.data)
    assert temp_files(tmp_path) == []


async def test_identical_audio_under_two_keys_is_one_file(
    tmp_path: Path, io_pool: EngineExecutor
) -> None:
    store = AudioStore(tmp_path, io=io_pool)
    reply = audio(b"same bytes" * 50)
    await store.put("key-a", reply)
    await store.put("key-b", reply)
    assert len(audio_files(tmp_path)) == 1
    assert (await store.get("key-a")) == (await store.get("key-b"))
    assert store.stats().files == 1


async def test_a_restarted_process_finds_what_was_stored(tmp_path: Path) -> None:
    first_pool = EngineExecutor(1)
    first = AudioStore(tmp_path, io=first_pool)
    stored = await first.put("reply-key", audio(b"opus bytes" * 30, "opus"))
    first_pool.shutdown()

    second_pool = EngineExecutor(1)
    try:
        second = AudioStore(tmp_path, io=second_pool)
        found = await second.get("reply-key")
        assert found is not None and found.data == stored.data and found.format == "opus"
        stats = await second.refresh()
        assert (stats.files, stats.bytes, stats.hits) == (1, len(stored.data), 1)
    finally:
        second_pool.shutdown()


async def test_concurrent_writers_in_one_process(tmp_path: Path, io_pool: EngineExecutor) -> None:
    # Several versions of the same reply (a voice need not be deterministic) written at once.
    store = AudioStore(tmp_path, io=io_pool)
    versions = [audio(bytes([i]) * 5000) for i in range(8)]
    results = await asyncio.gather(*(store.put("same-key", v) for v in versions * 3))
    assert all(r.on_disk for r in results)
    found = await store.get("same-key")
    assert found is not None and found.data in {v.data for v in versions}
    assert len(audio_files(tmp_path)) == 8
    assert temp_files(tmp_path) == []


def _hammer(root: str, worker: int, rounds: int) -> list[str]:
    """One process writing shared and private keys and reading them back (see below)."""

    async def run() -> list[str]:
        pool = EngineExecutor(2)
        store = AudioStore(Path(root), io=pool)
        problems: list[str] = []
        try:
            for i in range(rounds):
                # Everyone writes "shared" with different bytes; private keys are unique.
                shared = audio(f"w{worker} r{i} ".encode() * 400)
                await store.put("shared", shared)
                await store.put(f"private-{worker}-{i}", audio(f"p{worker}-{i}".encode() * 300))
                found = await store.get("shared")
                if found is None:
                    problems.append(f"shared missing in round {i}")
                elif hashlib.sha256(found.data).hexdigest() != found.digest:
                    problems.append("torn read")
            for i in range(rounds):
                mine = await store.get(f"private-{worker}-{i}")
                if mine is None or mine.data != f"p{worker}-{i}".encode() * 300:
                    problems.append(f"private {i} lost")
        finally:
            pool.shutdown()
        return problems

    return asyncio.run(run())


def test_several_processes_share_one_directory(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        futures = [pool.submit(_hammer, str(tmp_path), w, 40) for w in range(4)]
        problems = [p for f in futures for p in f.result(timeout=120)]
    assert problems == []
    assert temp_files(tmp_path) == []
    # 4 x 40 shared versions + 4 x 40 private files, all complete and verifiable.
    files = audio_files(tmp_path)
    assert len(files) == 320
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name.split(".")[0]


async def test_eviction_removes_least_recently_used(
    tmp_path: Path, io_pool: EngineExecutor
) -> None:
    store = AudioStore(tmp_path, max_bytes=10_000, io=io_pool)
    a, b, c, d = (audio(bytes([n]) * 3000) for n in range(4))
    for key, item, age in (("a", a, 300), ("b", b, 200), ("c", c, 100)):
        stored = await store.put(key, item)
        path = store.audio_path(stored.digest, "mp3")
        os.utime(path, (time.time() - age, time.time() - age))
    # "a" is the oldest write, but reading it makes it the most recently used.
    assert await store.get("a") is not None
    await store.put("d", d)  # 12 000 bytes > 10 000: evict down to 9 000

    assert await store.get("b") is None
    for key in ("a", "c", "d"):
        assert await store.get(key) is not None, key
    stats = store.stats()
    assert (stats.evictions, stats.files, stats.bytes) == (1, 3, 9000)
    # The pointer to the evicted audio went with it.
    assert len(key_files(tmp_path)) == 3


async def test_audio_larger_than_the_bound_is_not_stored(
    tmp_path: Path, io_pool: EngineExecutor
) -> None:
    store = AudioStore(tmp_path, max_bytes=1000, io=io_pool)
    result = await store.put("big", audio(b"x" * 2000))
    assert not result.on_disk
    assert audio_files(tmp_path) == []


async def test_damaged_or_missing_files_are_misses(tmp_path: Path, io_pool: EngineExecutor) -> None:
    store = AudioStore(tmp_path, io=io_pool)
    damaged = await store.put("damaged", audio(b"good audio" * 100))
    path = store.audio_path(damaged.digest, "mp3")
    path.write_bytes(b"good audio" * 50)  # truncated, e.g. by a crash or a full disk
    assert await store.get("damaged") is None
    assert not path.exists(), "a damaged file must be removed, never served"
    assert await store.read(damaged.digest, "mp3") is None

    missing = await store.put("missing", audio(b"other audio" * 100))
    store.audio_path(missing.digest, "mp3").unlink()
    assert await store.get("missing") is None
    assert not await store.contains("missing")

    garbled = await store.put("garbled", audio(b"third" * 100))
    for key_file in key_files(tmp_path):
        key_file.write_text("../../etc/passwd\n")
    assert await store.get("garbled") is None
    assert await store.read(garbled.digest, "mp3") == garbled.data  # the audio itself is fine

    # Each was a miss, not an error, and writing again heals the entry.
    healed = await store.put("damaged", audio(b"good audio" * 100))
    assert (await store.get("damaged")) == healed
    assert store.stats().misses == 4


async def test_stale_temp_files_are_cleaned_and_names_are_validated(
    tmp_path: Path, io_pool: EngineExecutor
) -> None:
    store = AudioStore(tmp_path, io=io_pool)
    shard = tmp_path / "ab"
    shard.mkdir()
    stale, fresh = shard / ".tmp-stale", shard / ".tmp-fresh"
    stale.write_bytes(b"half written")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    stats = await store.refresh()
    assert (stats.files, stats.bytes) == (0, 0)
    assert not stale.exists() and fresh.exists()

    for bad in ("../../etc/passwd", "AB" * 32, "ab" * 31, ""):
        with pytest.raises(ValueError, match="not a stored audio name"):
            store.audio_path(bad, "mp3")


async def test_store_io_completes_while_every_engine_thread_is_blocked(
    tmp_path: Path, io_pool: EngineExecutor
) -> None:
    store = AudioStore(tmp_path, max_bytes=1_000_000, io=io_pool)
    reply = audio(b"reply bytes" * 200)
    engine_pool = EngineExecutor(2)
    try:
        async with BlockedEngine(engine_pool) as engine:
            stored = await asyncio.wait_for(store.put("k", reply), GUARD)
            found = await asyncio.wait_for(store.get("k"), GUARD)
            data = await asyncio.wait_for(store.read(stored.digest, "mp3"), GUARD)
            assert await asyncio.wait_for(store.contains("k"), GUARD)
            assert await asyncio.wait_for(store.exists(stored.digest, "mp3"), GUARD)
            # All of it ran on the I/O pool while every engine thread was still held.
            engine.assert_still_blocked()
    finally:
        engine_pool.shutdown()
    assert found == stored and data == reply.data
    assert io_pool.stats().completed >= 5 and io_pool.stats().failed == 0
