"""Workload knobs, the Zipf sampler and cycle plans: reproducible and skewed."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from ustad.bench.workload import (
    Clip,
    Workload,
    ZipfSampler,
    describe_pools,
    plan_cycle,
    synthetic_urdu_clips,
    urdu_pool,
)
from ustad.speech.audio import decode_audio, speech_seconds


def test_zipf_probabilities_decrease_and_sum_to_one() -> None:
    probabilities = ZipfSampler(10, 1.1).probabilities()
    assert sum(probabilities) == pytest.approx(1.0)
    assert all(a > b for a, b in itertools.pairwise(probabilities))
    # 1 / H(10, 1.1): the most popular sentence is about 37 % of the traffic.
    assert probabilities[0] == pytest.approx(0.373, abs=0.002)
    assert ZipfSampler(4, 0.0).probabilities() == pytest.approx([0.25] * 4)


def test_zipf_draws_follow_the_distribution() -> None:
    sampler = ZipfSampler(10, 1.1)
    rng = random.Random(7)
    draws = Counter(sampler.sample(rng) for _ in range(40_000))
    assert set(draws) <= set(range(10))
    for rank, expected in enumerate(sampler.probabilities()):
        assert draws[rank] / 40_000 == pytest.approx(expected, abs=0.01)


def test_zipf_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ZipfSampler(0, 1.0)
    with pytest.raises(ValueError, match="negative"):
        ZipfSampler(3, -1.0)


def test_plans_are_reproducible_and_depend_on_the_seed() -> None:
    workload = Workload(seed=3, synthetic_urdu=8)
    sizes = {"urdu_pool": 10, "learner_pool": 300}
    first = [
        plan_cycle(workload, learner, cycle, **sizes) for learner in range(6) for cycle in range(3)
    ]
    again = [
        plan_cycle(workload, learner, cycle, **sizes) for learner in range(6) for cycle in range(3)
    ]
    assert first == again
    other = [
        plan_cycle(replace(workload, seed=4), learner, cycle, **sizes)
        for learner in range(6)
        for cycle in range(3)
    ]
    assert first != other


def test_a_learners_plan_does_not_depend_on_how_many_learners_run() -> None:
    sizes = {"urdu_pool": 10, "learner_pool": 300}
    small, large = Workload(learners=2), Workload(learners=16)
    assert plan_cycle(small, 1, 1, **sizes) == plan_cycle(large, 1, 1, **sizes)


def test_plans_respect_the_knobs() -> None:
    workload = Workload(attempts=3, urdu_retries=1, think_time=2.0)
    plan = plan_cycle(workload, 0, 0, urdu_pool=5, learner_pool=7)
    assert len(plan.urdu) == 2 and all(0 <= i < 5 for i in plan.urdu)
    assert len(plan.english) == 3 and all(0 <= i < 7 for i in plan.english)
    assert all(1.0 <= t <= 3.0 for t in plan.think)
    zero = plan_cycle(replace(workload, think_time=0.0), 0, 0, urdu_pool=5, learner_pool=7)
    assert set(zero.think) == {0.0}


def test_sentences_repeat_across_learners_with_skew() -> None:
    """Over many learners the top sentence dominates: what makes caches pay off."""
    workload = Workload(zipf=1.1)
    firsts = Counter(
        plan_cycle(workload, learner, cycle, urdu_pool=10, learner_pool=300).urdu[0]
        for learner in range(200)
        for cycle in range(5)
    )
    ranked = [firsts[rank] for rank in range(10)]
    assert ranked[0] > 2.5 * ranked[3] > 0
    assert ranked[0] == max(ranked)
    uniform = Counter(
        plan_cycle(replace(workload, zipf=0.0), learner, 0, urdu_pool=10, learner_pool=300).urdu[0]
        for learner in range(1000)
    )
    assert max(uniform.values()) < 2 * min(uniform.values())


def test_workload_rejects_impossible_knobs() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Workload(learners=0)
    with pytest.raises(ValueError, match="negative"):
        Workload(think_time=-1.0)
    with pytest.raises(ValueError, match="negative"):
        Workload(synthetic_urdu=-2)


def test_urdu_pool_puts_real_clips_first_and_labels_synthetic_ones(shared_data: Path) -> None:
    pool = urdu_pool(shared_data, synthetic=2, seed=5)
    assert [c.source for c in pool] == ["common_voice", "common_voice", "espeak-ng", "espeak-ng"]
    assert [c.synthetic for c in pool] == [False, False, True, True]
    described = describe_pools(pool, pool[:1], 1.1)
    assert described["urdu_pool_real"] == 2 and described["urdu_pool_synthetic"] == 2
    assert [row["rank"] for row in described["urdu_pool"]] == [1, 2, 3, 4]
    assert described["urdu_pool"][2]["synthetic"] is True


def test_synthetic_clips_are_reproducible_speech() -> None:
    first = synthetic_urdu_clips(2, seed=9)
    again = synthetic_urdu_clips(2, seed=9)
    assert [c.name for c in first] == [c.name for c in again]
    assert [c.data for c in first] == [c.data for c in again]
    assert [c.name for c in synthetic_urdu_clips(2, seed=10)] != [c.name for c in first]
    clip: Clip = first[0]
    audio = decode_audio(clip.data, max_seconds=30.0, format_hint=clip.format)
    assert audio.duration == pytest.approx(clip.seconds, abs=0.05)
    assert speech_seconds(audio) > 0.3
    assert synthetic_urdu_clips(0, seed=9) == []
