"""The Redis tier of the reply and translation caches, against the real Redis: two
``SpeechService``s stand for two workers sharing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import connect
from tests.conftest import UrduClip
from tests.runtime.shared_tier import TierMaker, delete_prefix, tiers, two_workers, unique_prefix
from tests.store.proxy import PausableProxy
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.redis_tier import RedisTier
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.settings import TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.types import Segment, SpokenText, Translation, TranslationRequest

REPLY = SpokenText(
    "Now repeat after me. شاباش", (Segment("en", "Now repeat after me."), Segment("ur", "شاباش"))
)


class GatedTranslator(FakeTranslator):
    """Counts calls (across the workers sharing ``calls``) and answers once released."""

    def __init__(self, calls: list[str], release: asyncio.Event) -> None:
        super().__init__({"سلام": "Hello."})
        self.calls = calls
        self.release = release
        self.asked = asyncio.Event()

    async def translate(self, request: TranslationRequest) -> Translation | None:
        self.calls.append(request.text)
        self.asked.set()
        await self.release.wait()
        return await super().translate(request)


@dataclass
class Worker:
    speech: SpeechService
    translator: GatedTranslator

    def synthesis_calls(self) -> int:
        """Engine calls that synthesise or encode speech."""
        calls = self.speech.engine_calls
        return sum(n for kind, n in calls.items() if kind.startswith(("tts_", "encode_")))


@dataclass
class Fleet:
    make: TierMaker
    calls: list[str]
    release: asyncio.Event
    executors: list[EngineExecutor]

    def worker(self, tier: RedisTier | None = None) -> Worker:
        executor = EngineExecutor(1)
        self.executors.append(executor)
        translator = GatedTranslator(self.calls, self.release)
        speech = SpeechService(
            executor=executor,
            english_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
            multilingual_stt=FakeTranscriber(lambda a, lang, task: transcript_of("x")),
            voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur")},
            translators=[translator],
            normalizer=translator,
            tts=TtsSettings(audio_format="wav"),
            tts_cache_bytes=1 << 22,
            translation_cache_entries=10,
            shared=tier or self.make(),
        )
        return Worker(speech, translator)


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    release = asyncio.Event()
    release.set()
    async with tiers(unique_prefix()) as make:
        built = Fleet(make, [], release, [])
        yield built
        for executor in built.executors:
            executor.shutdown()


async def test_a_reply_synthesised_on_one_worker_is_served_by_another(fleet: Fleet) -> None:
    a, b = fleet.worker(), fleet.worker()
    made = await a.speech.speak_stored(REPLY)
    assert a.synthesis_calls() > 0
    served = await b.speech.speak_stored(REPLY)
    assert served.data == made.data and served.digest == made.digest
    assert b.synthesis_calls() == 0
    assert b.speech.stats().shared_caches[0].hits == 1
    # Then B's memory tier answers it: Redis is asked once per worker.
    await b.speech.speak_stored(REPLY)
    assert b.speech.shared_audio is not None and b.speech.shared_audio.stats().hits == 1


async def test_a_translation_made_on_one_worker_is_reused_by_another(fleet: Fleet) -> None:
    a, b = fleet.worker(), fleet.worker()
    assert (await a.speech.translate("سلام")) == Translation("Hello.", "fake-mt")
    assert (await b.speech.translate("سلام")) == Translation("Hello.", "fake-mt")
    assert fleet.calls == ["سلام"]
    # "No translation" of a typed text is shared too; a refused recording's is not.
    assert await a.speech.translate("نامعلوم") is None
    assert await b.speech.translate("نامعلوم") is None
    assert fleet.calls == ["سلام", "نامعلوم"]


async def test_workers_asking_at_once_compute_once(fleet: Fleet) -> None:
    a, b = fleet.worker(), fleet.worker()
    fleet.release.clear()
    first = asyncio.create_task(a.speech.translate("سلام"))
    await a.translator.asked.wait()
    second = asyncio.create_task(b.speech.translate("سلام"))
    await asyncio.sleep(0.1)  # B finds A's lock and waits for its value
    fleet.release.set()
    results = await asyncio.gather(first, second)
    assert results[0] == results[1] == Translation("Hello.", "fake-mt")
    assert fleet.calls == ["سلام"]
    assert b.speech.shared_translations is not None
    assert b.speech.shared_translations.stats().coalesced == 1


async def test_a_turn_waiting_for_another_worker_counts_it_as_shared(fleet: Fleet) -> None:
    a, b = fleet.worker(), fleet.worker()
    fleet.release.clear()
    first = asyncio.create_task(a.speech.translate("سلام"))
    await a.translator.asked.wait()
    turn = TurnTimer()

    async def on_b() -> Translation | None:
        with turn.current():
            return await b.speech.translate("سلام")

    second = asyncio.create_task(on_b())
    await asyncio.sleep(0.2)  # B waits for A's value behind A's lock
    fleet.release.set()
    await asyncio.gather(first, second)
    timings = turn.as_dict()
    assert timings["shared"] >= 200.0 - 5.0  # not ustad's own time
    assert timings["overhead"] < timings["shared"]


async def test_four_workers_asked_for_the_same_new_reply_synthesise_it_once(
    fleet: Fleet,
) -> None:
    workers = [fleet.worker() for _ in range(4)]
    replies = await asyncio.gather(*(w.speech.speak_stored(REPLY) for w in workers))
    assert len({reply.digest for reply in replies}) == 1
    # Two segments and one encoding, made by one worker; the others waited or hit.
    assert sorted(w.synthesis_calls() for w in workers) == [0, 0, 0, 3]


async def test_a_lock_left_by_a_dead_worker_expires(fleet: Fleet) -> None:
    tier = fleet.make(lock_wait_seconds=30.0)
    worker = fleet.worker(tier)
    dead = await _hold_lock(tier, "translation", "سلام", seconds=0.3)
    assert dead
    assert (await worker.speech.translate("سلام")) == Translation("Hello.", "fake-mt")
    assert fleet.calls == ["سلام"]
    stats = worker.speech.stats().shared_caches[1]
    assert stats.waited_out == 0 and stats.writes == 1


async def test_a_wait_past_its_bound_computes_locally(fleet: Fleet) -> None:
    tier = fleet.make(lock_wait_seconds=0.1)
    worker = fleet.worker(tier)
    assert await _hold_lock(tier, "translation", "سلام", seconds=60.0)
    assert (await worker.speech.translate("سلام")) == Translation("Hello.", "fake-mt")
    assert worker.speech.stats().shared_caches[1].waited_out == 1


@pytest.mark.parametrize(
    "stored",
    [
        b"\x80\x04\x95 pickled",
        b"ustad\x01\x00\x00\x00\x05{bad}",
        b'ustad\x01\x00\x00\x00\x10{"kind":"other"}',
        b'ustad\x01\x00\x00\x00\x29{"kind":"translation","translation":[1,2]}',
    ],
)
async def test_a_malformed_value_is_a_counted_miss(fleet: Fleet, stored: bytes) -> None:
    tier = fleet.make()
    worker = fleet.worker(tier)
    await tier.client.set(_value_key(tier, "translation", "سلام"), stored)
    assert (await worker.speech.translate("سلام")) == Translation("Hello.", "fake-mt")
    stats = worker.speech.stats().shared_caches[1]
    assert stats.rejected == 1 and stats.hits == 0 and stats.writes == 1
    assert fleet.calls == ["سلام"]


async def test_a_key_of_another_type_is_a_counted_miss_and_is_overwritten(fleet: Fleet) -> None:
    tier = fleet.make()
    worker = fleet.worker(tier)
    key = _value_key(tier, "translation", "سلام")
    await tier.client.rpush(key, b"not a string")
    for _ in range(2 * tier.settings.breaker_failures):
        assert (await worker.speech.translate("سلام")) == Translation("Hello.", "fake-mt")
        worker.speech.translation_cache.clear()  # ask Redis every time
    stats = worker.speech.stats()
    # Redis answered: no error, no open breaker; the value was replaced, then served.
    assert stats.shared_caches[1].rejected == 1 and stats.shared_caches[1].errors == 0
    assert stats.redis is not None and stats.redis.errors == 0
    assert stats.shared_caches[1].hits == 2 * tier.settings.breaker_failures - 1


async def test_values_over_the_size_bound_are_neither_written_nor_read(fleet: Fleet) -> None:
    small = fleet.make(max_value_bytes=1024)
    a = fleet.worker(small)
    await a.speech.speak_stored(REPLY)  # a WAV of a few seconds: far over 1 KiB
    assert a.speech.stats().shared_caches[0].too_large == 1
    key = _value_key(small, "tts_audio", a.speech._reply_key(REPLY, "wav", 1.0))
    assert await small.client.get(key) is None
    # Written by a worker with a larger bound, it is refused by the small one.
    b = fleet.worker(fleet.make())
    await b.speech.speak_stored(REPLY)
    c = fleet.worker(fleet.make(max_value_bytes=1024))
    await c.speech.speak_stored(REPLY)
    assert c.speech.stats().shared_caches[0].rejected == 1
    assert c.synthesis_calls() > 0


@pytest.mark.parametrize("outage", ["refuse", "hang"])
async def test_turns_go_on_while_redis_is_down_and_use_it_again_after(
    fleet: Fleet, outage: str
) -> None:
    """Stopped (connections refused) or frozen (no answer): every call still answers."""
    proxy = PausableProxy("127.0.0.1", 6379)
    await proxy.start()
    try:
        url = f"redis://127.0.0.1:{proxy.port}/15"
        tier = fleet.make(url=url, socket_timeout_seconds=0.2)
        worker = fleet.worker(tier)
        assert await worker.speech.translate("سلام") is not None
        assert tier.stats().up == 1
        proxy.refuse() if outage == "refuse" else proxy.hang()
        for n in range(6):  # different texts: each misses memory and asks Redis
            assert await worker.speech.speak(SpokenText.single("en", f"Say {n}."))
        stats = worker.speech.stats()
        assert stats.redis is not None and stats.redis.up == 0
        # The breaker opened: most of those lookups were not even sent.
        assert stats.redis.breaker_opened >= 1 and stats.redis.skipped >= 1
        assert stats.shared_caches[0].errors == 6
        proxy.resume()
        for _ in range(200):  # the breaker lets a probe through after its reset time
            await worker.speech.speak(SpokenText.single("en", "Back again."))
            worker.speech.audio_cache.clear()
            if tier.stats().up:
                break
            await asyncio.sleep(0.05)
        assert tier.stats().up == 1
        writes = worker.speech.stats().shared_caches[0].writes
        await worker.speech.speak(SpokenText.single("en", "A new reply."))
        assert worker.speech.stats().shared_caches[0].writes == writes + 1
    finally:
        await proxy.close()


def _value_key(tier: RedisTier, cache: str, text_or_key: str) -> str:
    return tier.key("cache", cache, _cache_key_of(cache, text_or_key))


def _cache_key_of(cache: str, text_or_key: str) -> str:
    from ustad.caching import cache_key

    if cache == "translation":
        return cache_key("translate", "ur", "en", text_or_key)
    return text_or_key


async def _hold_lock(tier: RedisTier, cache: str, text: str, *, seconds: float) -> bool:
    """Take a value's lock as a worker that then dies would."""
    key = tier.key("lock", cache, _cache_key_of(cache, text))
    return bool(await tier.client.set(key, "dead", nx=True, px=int(seconds * 1000)))


async def test_a_learner_on_worker_b_hears_the_reply_worker_a_synthesised(
    tmp_path: Path, urdu_clips: list[UrduClip]
) -> None:
    urdu_audio = urdu_clips[0].path.read_bytes()
    prefix = unique_prefix()
    try:
        with two_workers(tmp_path, prefix, None) as pair:
            async with connect(pair.a) as client:
                await client.say(urdu_audio, "english")
                on_a = await client.receive()
            assert on_a.step == "you_said_audio" and on_a.audio
            before = await _stats(pair.b)
            async with connect(pair.b) as client:
                await client.say(urdu_audio, "english")
                on_b = await client.receive()
            after = await _stats(pair.b)
            assert on_b.data["response"] == on_a.data["response"] and on_b.audio == on_a.audio
            synthesis = {k for k in after["engine_calls"] if k.startswith(("tts_", "encode_"))}
            assert all(
                after["engine_calls"][k] == before["engine_calls"].get(k, 0) for k in synthesis
            )
            shared = after["shared_caches"]
            assert shared["tts_audio"]["hits"] > before["shared_caches"]["tts_audio"]["hits"]
            assert (
                shared["translation"]["hits"] == before["shared_caches"]["translation"]["hits"] + 1
            )
            assert after["redis"]["up"] == 1
            async with httpx.AsyncClient(base_url=f"http://{pair.b}") as http:
                metrics = (await http.get("/metrics")).text
                health = (await http.get("/health")).json()
            assert "ustad_redis_up 1.0" in metrics
            assert 'ustad_shared_cache_hits_total{cache="tts_audio"}' in metrics
            assert health["shared_tier"] == "ok" and health["redis"]["up"] == 1
            assert "tts_audio" in health["shared_caches"]
    finally:
        await delete_prefix(prefix)


async def _stats(address: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        found: dict[str, Any] = (await http.get("/v1/stats")).json()
        return found
