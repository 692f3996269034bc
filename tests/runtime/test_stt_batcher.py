"""Cross-session STT batching: when batches go, and that every caller gets its own answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from ustad.runtime.executor import EngineExecutor
from ustad.runtime.metrics import ServiceMetrics
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.stt_batcher import BatchTranscriber, SttBatcher
from ustad.settings import Settings, TtsSettings
from ustad.speech.fakes import FakeSynthesizer, FakeTranslator, transcript_of
from ustad.speech.types import Audio, Task, Transcript

LONG_WAIT = 10.0
"""A max wait no test should ever reach: batches in those tests go on size."""


def clip(tag: int) -> Audio:
    """An utterance the fake engine knows by its length."""
    return Audio(np.zeros(16 * tag, dtype=np.float32))


def tag_of(audio: Audio) -> int:
    return len(audio.samples) // 16


@dataclass
class FakeBatchEngine:
    """Answers ``batch <tag>`` from a batch and ``single <tag>`` alone; records batch sizes.

    Tags in ``unsettled`` come back from a batch as ``None``; tag 13 makes the single
    path raise; ``fail_batches`` makes every batch call raise; ``gate`` (when set)
    holds each batch call until it is opened.
    """

    unsettled: set[int] = field(default_factory=set)
    fail_batches: bool = False
    gate: threading.Event | None = None
    name: str = "fake-batch-stt"
    batch_sizes: list[int] = field(default_factory=list)
    singles: list[int] = field(default_factory=list)
    batch_started: threading.Event = field(default_factory=threading.Event)

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
    ) -> Transcript:
        tag = tag_of(audio)
        self.singles.append(tag)
        if tag == 13:
            raise ValueError("unlucky utterance")
        return transcript_of(f"single {tag}", language=language or "en")

    def can_batch(self, *, language: str | None, task: Task) -> bool:
        return language is not None

    def transcribe_batch(
        self,
        audios: Sequence[Audio],
        *,
        language: str | None,
        task: Task,
        word_timestamps: bool,
    ) -> list[Transcript | None]:
        self.batch_sizes.append(len(audios))
        self.batch_started.set()
        if self.gate is not None:
            self.gate.wait(timeout=5)
        if self.fail_batches:
            raise RuntimeError("the whole batch broke")
        return [
            None
            if tag_of(a) in self.unsettled
            else transcript_of(f"batch {tag_of(a)}", language=language or "en")
            for a in audios
        ]


@pytest.fixture
async def executor() -> AsyncIterator[EngineExecutor]:
    pool = EngineExecutor(2)
    yield pool
    pool.shutdown()


def texts(results: Sequence[Transcript | BaseException]) -> list[str]:
    return [r.text if isinstance(r, Transcript) else type(r).__name__ for r in results]


async def test_a_full_batch_goes_at_once(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=3, max_wait=LONG_WAIT)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(batcher.transcribe(engine, clip(tag), language="en") for tag in (1, 2, 3))
    )
    assert time.perf_counter() - started < 2.0  # did not wait for the timer
    assert texts(results) == ["batch 1", "batch 2", "batch 3"]
    assert engine.batch_sizes == [3]
    assert engine.singles == []


async def test_a_batch_that_does_not_fill_goes_after_the_wait(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=8, max_wait=0.05)
    started = time.perf_counter()
    results = await asyncio.gather(
        batcher.transcribe(engine, clip(1), language="en"),
        batcher.transcribe(engine, clip(2), language="en"),
    )
    elapsed = time.perf_counter() - started
    assert 0.04 <= elapsed < 2.0
    assert texts(results) == ["batch 1", "batch 2"]
    assert engine.batch_sizes == [2]
    assert batcher.pending == 0


async def test_requests_of_different_kinds_never_share_a_batch(executor: EngineExecutor) -> None:
    english, other = FakeBatchEngine(), FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=8, max_wait=0.02)
    results = await asyncio.gather(
        batcher.transcribe(english, clip(1), language="en"),
        batcher.transcribe(english, clip(2), language="en", word_timestamps=True),
        batcher.transcribe(english, clip(3), language="ur"),
        batcher.transcribe(english, clip(4), language="en"),
        batcher.transcribe(other, clip(5), language="en"),
    )
    assert texts(results) == ["batch 1", "single 2", "single 3", "batch 4", "single 5"]
    # English without word timings is the only kind with two requests; the rest ran alone.
    assert english.batch_sizes == [2]
    assert sorted(english.singles) == [2, 3]
    assert other.singles == [5]
    stats = batcher.stats()
    assert (stats.batches, stats.items) == (4, 5)
    assert stats.mean_batch_size == pytest.approx(1.25)


async def test_each_caller_gets_its_own_result_or_error(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine(unsettled={2, 13})
    batcher = SttBatcher(executor, max_batch_size=4, max_wait=LONG_WAIT)
    results = await asyncio.gather(
        *(batcher.transcribe(engine, clip(tag), language="en") for tag in (1, 2, 13, 4)),
        return_exceptions=True,
    )
    # 2 and 13 were left to the single path: 2 succeeds there, 13 raises for itself only.
    assert texts(results) == ["batch 1", "single 2", "ValueError", "batch 4"]
    assert engine.batch_sizes == [4]
    assert sorted(engine.singles) == [2, 13]
    assert batcher.stats().rerun_singly == 2


async def test_a_failed_batch_falls_back_to_single_calls(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine(fail_batches=True)
    batcher = SttBatcher(executor, max_batch_size=3, max_wait=LONG_WAIT)
    results = await asyncio.gather(
        *(batcher.transcribe(engine, clip(tag), language="en") for tag in (1, 13, 3)),
        return_exceptions=True,
    )
    assert texts(results) == ["single 1", "ValueError", "single 3"]
    stats = batcher.stats()
    assert (stats.failed_batches, stats.rerun_singly) == (1, 3)


async def test_a_caller_that_leaves_before_the_batch_goes_is_left_out(
    executor: EngineExecutor,
) -> None:
    engine = FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=3, max_wait=0.2)
    started = time.perf_counter()
    leaving = asyncio.create_task(batcher.transcribe(engine, clip(1), language="en"))
    staying = asyncio.create_task(batcher.transcribe(engine, clip(2), language="en"))
    await asyncio.sleep(0.01)
    leaving.cancel()
    await asyncio.sleep(0)
    assert batcher.pending == 1
    # A third request must not make the batch "full" with the one who left: it goes
    # on the timer, with two.
    third = asyncio.create_task(batcher.transcribe(engine, clip(3), language="en"))
    assert texts(await asyncio.gather(staying, third)) == ["batch 2", "batch 3"]
    assert time.perf_counter() - started >= 0.15
    assert leaving.cancelled()
    assert engine.batch_sizes == [2]


async def test_the_last_caller_leaving_drops_the_batch(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=3, max_wait=0.05)
    leaving = asyncio.create_task(batcher.transcribe(engine, clip(1), language="en"))
    await asyncio.sleep(0.01)
    leaving.cancel()
    await asyncio.sleep(0)
    assert batcher.pending == 0
    await asyncio.sleep(0.1)  # past the wait: no empty batch is dispatched
    assert engine.batch_sizes == []
    assert batcher.stats().batches == 0


async def test_a_caller_leaving_during_the_batch_does_not_break_it(
    executor: EngineExecutor,
) -> None:
    gate = threading.Event()
    engine = FakeBatchEngine(gate=gate, unsettled={3})
    batcher = SttBatcher(executor, max_batch_size=3, max_wait=LONG_WAIT)
    tasks = [
        asyncio.create_task(batcher.transcribe(engine, clip(tag), language="en"))
        for tag in (1, 2, 3)
    ]
    await asyncio.get_running_loop().run_in_executor(None, engine.batch_started.wait, 5)
    tasks[0].cancel()
    tasks[2].cancel()  # would have been re-run singly: it is not
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert texts(results) == ["CancelledError", "batch 2", "CancelledError"]
    assert engine.singles == []
    assert engine.batch_sizes == [3]


async def test_requests_that_cannot_be_batched_run_at_once(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=4, max_wait=LONG_WAIT)
    started = time.perf_counter()
    result = await batcher.transcribe(engine, clip(1), language=None)
    assert time.perf_counter() - started < 2.0
    assert result.text == "single 1"
    assert batcher.stats().unbatched == 1
    assert engine.batch_sizes == []


async def test_a_batch_size_of_one_is_off(executor: EngineExecutor) -> None:
    engine = FakeBatchEngine()
    batcher = SttBatcher(executor, max_batch_size=1, max_wait=LONG_WAIT)
    results = await asyncio.gather(
        *(batcher.transcribe(engine, clip(tag), language="en") for tag in (1, 2))
    )
    assert texts(results) == ["single 1", "single 2"]
    assert engine.batch_sizes == []


def test_bad_limits_are_refused() -> None:
    pool = EngineExecutor(1)
    try:
        with pytest.raises(ValueError, match="max_batch_size"):
            SttBatcher(pool, max_batch_size=0, max_wait=0.01)
        with pytest.raises(ValueError, match="max_wait"):
            SttBatcher(pool, max_batch_size=2, max_wait=-1)
    finally:
        pool.shutdown()


def test_the_fake_is_a_batch_transcriber() -> None:
    assert isinstance(FakeBatchEngine(), BatchTranscriber)


async def test_the_speech_service_batches_and_counts_each_utterance(
    executor: EngineExecutor,
) -> None:
    engine = FakeBatchEngine()
    speech = SpeechService(
        executor=executor,
        english_stt=engine,
        multilingual_stt=engine,
        voices={"en": FakeSynthesizer("en"), "ur": FakeSynthesizer("ur")},
        translators=[FakeTranslator({})],
        normalizer=FakeTranslator({}),
        tts=TtsSettings(audio_format="wav"),
        tts_cache_bytes=0,
        translation_cache_entries=0,
        batcher=SttBatcher(executor, max_batch_size=2, max_wait=LONG_WAIT),
    )
    results = await asyncio.gather(
        speech.transcribe(clip(1), english=True, language="en"),
        speech.transcribe(clip(2), english=True, language="en"),
    )
    assert texts(results) == ["batch 1", "batch 2"]
    assert speech.engine_calls["stt_english_transcribe"] == 2
    assert engine.batch_sizes == [2]

    metrics = ServiceMetrics(speech=speech)
    stats = metrics.stats()["stt_batching"]
    assert (stats["batches"], stats["items"], stats["mean_batch_size"]) == (1, 2, 2.0)
    exposition = metrics.exposition()[0].decode()
    assert "ustad_stt_batches_total 1.0" in exposition
    assert "ustad_stt_batch_items_total 2.0" in exposition
    assert "ustad_stt_batch_max_size 2.0" in exposition


def test_batching_is_off_by_default_and_in_baseline_mode() -> None:
    assert Settings().stt.batch_max_size == 1
    on = {"stt": {"batch_max_size": 4}}
    assert Settings.model_validate(on).effective().stt.batch_max_size == 4
    baseline = Settings.model_validate({**on, "runtime": {"mode": "baseline"}}).effective()
    assert baseline.stt.batch_max_size == 1
