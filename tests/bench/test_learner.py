"""Simulated learners against a real server with fake engines: the protocol paths."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace

import pytest

from tests.api.conftest import RunningApp
from ustad.bench.learner import run_learners
from ustad.bench.server import ProcessSampler, free_port, machine_busy_seconds, sample_process
from ustad.bench.workload import Clip, Workload

FAST = Workload(learners=2, cycles=2, think_time=0.0, synthetic_urdu=0)


async def test_learners_run_whole_cycles_that_pass(
    fake_app: RunningApp, real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    results, wall = await run_learners(
        f"ws://{fake_app.address}", FAST, real_urdu, learner_clips_pool[:5]
    )
    assert wall > 0
    for result in results:
        assert result.errors == []
        assert [c.outcome for c in result.cycles] == ["passed", "passed"]
        assert result.cycles_completed == 2
        steps = [(s.sent, s.step) for s in result.samples if s.cycle == 0]
        assert steps == [
            ("urdu_utterance", "you_said_audio"),
            ("you_said_complete", "repeat_prompt"),
            ("word_by_word_complete", "full_sentence_audio"),
            ("english_utterance", "await_next"),
        ]
        for sample in result.samples:
            # Speaking steps have an audio frame after the JSON one; the others none.
            speaks = sample.step in ("you_said_audio", "full_sentence_audio", "await_next")
            assert (sample.audio_ms is not None) == speaks
            if speaks:
                assert sample.audio_ms is not None and sample.audio_ms >= sample.json_ms
                assert sample.audio_bytes > 0
            assert (sample.server_ms is not None) == sample.sent.endswith("utterance")


async def test_failed_attempts_end_with_next_sentence(
    fake_app: RunningApp, real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    fake_app.script.english = "I want juice"  # close enough not to be taken for Urdu
    workload = replace(FAST, learners=1, cycles=1, attempts=2)
    [result], _ = await run_learners(
        f"ws://{fake_app.address}", workload, real_urdu, learner_clips_pool[:5]
    )
    assert [c.outcome for c in result.cycles] == ["skipped"]
    assert result.cycles[0].attempts == 2
    sent = [s.sent for s in result.samples]
    assert sent.count("english_utterance") == 2
    assert sent[-1] == "next_sentence"
    assert "feedback_complete" in sent
    assert result.samples[-1].step == "await_next"


async def test_an_attempt_heard_as_a_new_urdu_sentence_is_followed(
    fake_app: RunningApp, real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    # A hopeless attempt is language-checked; the fake hears Urdu, so the server
    # starts a new sentence and the learner must follow it, not assume the script.
    fake_app.script.english = "completely different words here"
    workload = replace(FAST, learners=1, cycles=1, attempts=2)
    [result], _ = await run_learners(
        f"ws://{fake_app.address}", workload, real_urdu, learner_clips_pool[:5]
    )
    pairs = [(s.sent, s.step) for s in result.samples]
    assert ("english_utterance", "you_said_audio") in pairs
    assert [c.outcome for c in result.cycles] == ["skipped"]
    assert pairs[-1] == ("next_sentence", "await_next")
    assert result.errors == []


async def test_urdu_not_understood_is_retried_then_given_up(
    fake_app: RunningApp, real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    fake_app.script.language = ("en", 0.99)  # every Urdu utterance is heard as English
    workload = replace(FAST, learners=1, cycles=2, urdu_retries=1)
    [result], _ = await run_learners(
        f"ws://{fake_app.address}", workload, real_urdu, learner_clips_pool[:5]
    )
    assert [c.outcome for c in result.cycles] == ["urdu_not_understood"] * 2
    assert [len(c.urdu_clips) for c in result.cycles] == [2, 2]
    assert {s.step for s in result.samples} == {"english_input_edge_case"}
    assert result.cycles_completed == 0
    assert result.errors == []


async def test_a_server_that_is_not_there_is_an_error_not_a_crash(
    real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    [result], _ = await run_learners(
        f"ws://127.0.0.1:{free_port()}", replace(FAST, learners=1), real_urdu, learner_clips_pool
    )
    assert [c.outcome for c in result.cycles] == ["error"]
    assert len(result.errors) == 1


def burn_cpu(seconds: float) -> None:
    """Compute until this process has used ``seconds`` more CPU (however long that takes)."""
    until = time.process_time() + seconds
    while time.process_time() < until:
        sum(i * i for i in range(20_000))


async def test_process_sampler_reads_cpu_and_memory_from_proc() -> None:
    sample = sample_process(os.getpid())
    assert sample.cpu_seconds > 0 and sample.rss_bytes > 10 * 2**20
    assert sample.hwm_bytes >= sample.rss_bytes
    async with ProcessSampler(os.getpid(), interval=0.02) as sampler:
        # A fixed amount of CPU, not of wall time: a loaded machine only makes it slower.
        until = time.process_time() + 0.3
        while time.process_time() < until:
            sum(i * i for i in range(20_000))
            await asyncio.sleep(0)  # the sampler's timer fires once 20 ms have passed
    summary = sampler.summary()
    assert summary["available"] is True
    assert summary["samples"] >= 3  # first, last, and at least one in the >= 0.3 s between
    # /proc counts whole 10 ms ticks: the burnt 0.3 s shows up, less a tick at each end.
    assert summary["cpu_seconds"] >= 0.3 - 0.02
    assert 0 < summary["cpu_percent_mean"] <= 100 * (os.cpu_count() or 1) + 5
    assert summary["peak_rss_bytes"] >= summary["rss_bytes_end"]


def test_sampling_a_missing_process_raises() -> None:
    with pytest.raises(ProcessLookupError):
        sample_process(2**22 + 12345)


def test_machine_busy_seconds_grows_with_work() -> None:
    before = machine_busy_seconds()
    burn_cpu(0.2)
    # At least this process's work (other processes only add to it); half, because
    # /proc/stat is kept in ticks that the kernel may charge by sampling.
    assert machine_busy_seconds() - before >= 0.1
