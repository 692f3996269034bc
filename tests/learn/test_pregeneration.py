"""Pre-generating phrase prompts into the disk store, with fake synthesizers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.runtime.blocking import drain
from ustad.learn.pregeneration import (
    BackgroundPregeneration,
    phrase_prompts,
    pregenerate_prompts,
    start_phrase_pregeneration,
)
from ustad.runtime.audio_store import AudioStore
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.settings import AudioStoreSettings, TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranscriber, FakeTranslator, transcript_of
from ustad.speech.phrasebank import Phrase
from ustad.speech.types import Pcm
from ustad.tutor import texts

PHRASES = [
    Phrase("basics-001", "basics", "مجھے پانی چاہیے", "mujhe pani chahiye", "I want water."),
    Phrase("basics-002", "basics", "میں ٹھیک ہوں", "main theek hoon", "I am fine."),
    Phrase("travel-001", "travel", "اسٹیشن کہاں ہے", "station kahan hai", "Where is the station?"),
]


@dataclass
class CountingSynthesizer(FakeSynthesizer):
    """A fake voice that takes ``delay`` seconds and records how many calls overlap."""

    delay: float = 0.0
    fail_on: str | None = None
    active: list[int] = field(default_factory=lambda: [0])
    peak: list[int] = field(default_factory=lambda: [0])
    lock: threading.Lock = field(default_factory=threading.Lock)

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        if self.fail_on is not None and self.fail_on in text:
            raise RuntimeError(f"cannot say {text!r}")
        with self.lock:
            self.active[0] += 1
            self.peak[0] = max(self.peak[0], self.active[0])
        try:
            time.sleep(self.delay)
            return super().synthesize(text, speed=speed)
        finally:
            with self.lock:
                self.active[0] -= 1


@dataclass
class Rig:
    """A speech service over fake engines and a store in a temp dir."""

    speech: SpeechService
    executor: EngineExecutor
    io: EngineExecutor
    english: CountingSynthesizer
    urdu: CountingSynthesizer

    @property
    def said(self) -> list[str]:
        return [*self.english.said, *self.urdu.said]

    @property
    def store(self) -> AudioStore:
        assert self.speech.store is not None
        return self.speech.store

    def close(self) -> None:
        self.executor.shutdown()
        self.io.shutdown()


def make_rig(root: Path, *, delay: float = 0.0, fail_on: str | None = None) -> Rig:
    executor, io = EngineExecutor(2), EngineExecutor(1, name="io")
    # Both voices share counters so "at most one call at a time" covers them together.
    english = CountingSynthesizer("en", delay=delay, fail_on=fail_on)
    urdu = CountingSynthesizer(
        "ur",
        voice="fake-ur",
        delay=delay,
        fail_on=fail_on,
        active=english.active,
        peak=english.peak,
        lock=english.lock,
    )
    translator = FakeTranslator({})
    speech = SpeechService(
        executor=executor,
        english_stt=FakeTranscriber(lambda a, lang, task: transcript_of("hi")),
        multilingual_stt=FakeTranscriber(lambda a, lang, task: transcript_of("hi")),
        voices={"en": english, "ur": urdu},
        translators=[translator],
        normalizer=translator,
        tts=TtsSettings(audio_format="wav"),  # no encoder cost: the tests are about scheduling
        tts_cache_bytes=8 * 1024 * 1024,
        translation_cache_entries=10,
        store=AudioStore(root, io=io),
    )
    return Rig(speech, executor, io, english, urdu)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(tmp_path / "audio")
    yield made
    made.close()


def stored_files(root: Path) -> int:
    return sum(1 for p in root.glob("??/*") if not p.name.startswith("."))


def test_prompts_are_the_live_replies_of_every_phrase_and_mode() -> None:
    prompts = phrase_prompts(PHRASES, ["urdu", "english"])
    assert len(prompts) == 12
    assert texts.you_said("english", "میں ٹھیک ہوں", "I am fine.") in prompts
    assert texts.full_sentence("urdu", "Where is the station?") in prompts
    assert len(phrase_prompts(PHRASES, ["english"], limit=1)) == 2


async def test_job_fills_the_store_with_what_live_turns_ask_for(rig: Rig, tmp_path: Path) -> None:
    prompts = phrase_prompts(PHRASES, ["urdu", "english"])
    result = await pregenerate_prompts(rig.speech, prompts)
    assert (result.total, result.generated, result.skipped, result.failed) == (12, 12, 0, 0)
    assert stored_files(tmp_path / "audio") == 12
    # Disk only: the memory cache is kept for the replies learners are using.
    assert rig.speech.audio_cache.stats().entries == 0

    # A fresh process asking for a live reply finds it on disk and synthesises nothing.
    fresh = make_rig(tmp_path / "audio")
    try:
        live = texts.you_said("urdu", PHRASES[2].urdu, PHRASES[2].english)
        stored = await fresh.speech.speak_stored(live)
        assert stored.on_disk
        assert fresh.said == []
    finally:
        fresh.close()


async def test_job_skips_what_is_already_stored(rig: Rig) -> None:
    prompts = phrase_prompts(PHRASES, ["english"])
    await rig.speech.speak_stored(prompts[0])  # a live turn got there first
    said_before = len(rig.said)
    result = await pregenerate_prompts(rig.speech, prompts)
    assert (result.generated, result.skipped) == (5, 1)
    synthesised = len(rig.said) - said_before

    again = await pregenerate_prompts(rig.speech, prompts)
    assert (again.generated, again.skipped) == (0, 6)
    assert len(rig.said) - said_before == synthesised, "nothing is synthesised twice"


async def test_job_holds_at_most_one_engine_thread(tmp_path: Path) -> None:
    slow = make_rig(tmp_path / "audio", delay=0.01)
    try:
        await pregenerate_prompts(slow.speech, phrase_prompts(PHRASES, ["urdu"]))
        # Reply segments normally synthesise in parallel; the job does them one by one.
        assert slow.english.peak[0] == 1
    finally:
        slow.close()


async def test_job_waits_while_the_executor_is_busy(rig: Rig) -> None:
    release = threading.Event()
    busy = asyncio.create_task(rig.executor.run(lambda: release.wait(5)))
    await asyncio.sleep(0.01)
    job = asyncio.create_task(
        pregenerate_prompts(rig.speech, phrase_prompts(PHRASES, ["english"]), poll_seconds=0.01)
    )
    await asyncio.sleep(0.2)
    assert rig.said == [], "the job must not start while a learner's work is queued"
    assert not job.done()
    release.set()
    await busy
    result = await asyncio.wait_for(job, 10)
    assert result.generated == 6


async def test_background_job_stops_on_cancel(tmp_path: Path) -> None:
    slow = make_rig(tmp_path / "audio", delay=0.02)
    many = [
        Phrase(f"test-{i:03d}", "test", f"جملہ {i}", f"jumla {i}", f"Sentence number {i}.")
        for i in range(100)
    ]
    try:
        job = BackgroundPregeneration.start(slow.speech, phrase_prompts(many, ["english"]))
        deadline = time.monotonic() + 10
        while stored_files(tmp_path / "audio") < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await job.stop()
        assert job.task.cancelled()
        await drain(slow.executor)  # an engine call already on a thread runs to its end
        said = len(slow.said)
        files = stored_files(tmp_path / "audio")
        await asyncio.sleep(0.2)
        assert len(slow.said) == said and stored_files(tmp_path / "audio") == files
        assert 2 <= files < 200
        assert list((tmp_path / "audio").rglob(".tmp-*")) == []
    finally:
        slow.close()


async def test_failures_are_counted_and_a_broken_engine_stops_the_job(tmp_path: Path) -> None:
    one_bad = make_rig(tmp_path / "one", fail_on="station")
    all_bad = make_rig(tmp_path / "all", fail_on=" ")
    many = [
        Phrase(f"test-{i:03d}", "test", f"جملہ {i}", f"jumla {i}", f"Sentence number {i}.")
        for i in range(30)
    ]
    try:
        # In Urdu mode both prompts of the third phrase quote "Where is the station?".
        result = await pregenerate_prompts(one_bad.speech, phrase_prompts(PHRASES, ["urdu"]))
        assert (result.generated, result.failed) == (4, 2)
        broken = await pregenerate_prompts(all_bad.speech, phrase_prompts(many, ["english"]))
        assert broken.failed == 10 and broken.done == 10
    finally:
        one_bad.close()
        all_bad.close()


async def test_start_only_when_enabled_and_stored(rig: Rig) -> None:
    off = AudioStoreSettings(pregenerate_phrases=False)
    assert start_phrase_pregeneration(rig.speech, PHRASES, off) is None
    rig.speech.store = None
    assert start_phrase_pregeneration(rig.speech, PHRASES, AudioStoreSettings()) is None
