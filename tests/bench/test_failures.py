"""Censored latency figures, failure counts and their words, from synthetic runs."""

from __future__ import annotations

import numpy as np
import pytest

from ustad.bench.failures import (
    censored_percentile,
    censored_summary,
    failure_figures,
    failure_words,
    seconds_cell,
)
from ustad.bench.records import Failure, LearnerResult, MessageSample, UnservedMessage


def test_without_censored_values_it_is_the_plain_summary() -> None:
    served = [100.0, 200.0, 300.0, 400.0]
    summary = censored_summary(served, [])
    assert summary["count"] == 4 and summary["not_served"] == 0
    assert summary["p95"] == pytest.approx(float(np.percentile(served, 95)), abs=0.05)
    assert summary["lower_bound"] == []


def test_unserved_turns_raise_the_percentiles_and_make_them_bounds() -> None:
    served = [100.0] * 18
    summary = censored_summary(served, [500.0, 500.0])  # 2 of 20 turns timed out
    assert summary["count"] == 20 and summary["served"] == 18
    assert summary["p50"] == 100.0 and "p50" not in summary["lower_bound"]
    # p95 of 20 values interpolates ranks 18 and 19: both censored waits.
    assert summary["p95"] == 500.0 and "p95" in summary["lower_bound"]
    assert set(summary["lower_bound"]) == {"mean", "p95", "p99", "max"}
    # Served alone, the same run would have claimed a p95 of 100 ms.
    assert censored_summary(served, [])["p95"] == 100.0


def test_a_short_wait_below_served_values_bounds_every_percentile_above_it() -> None:
    # A drop after 50 ms: the turn's latency is unknown beyond 50 ms, so any figure
    # whose order statistics lie at or above it could move.
    summary = censored_summary([100.0, 200.0, 300.0], [50.0])
    assert set(summary["lower_bound"]) >= {"p50", "p95", "p99", "max"}


def test_nothing_served_is_all_bounds_and_nothing_at_all_is_none() -> None:
    summary = censored_summary([], [300_000.0] * 16)
    assert summary["served"] == 0 and summary["p95"] == 300_000.0
    assert seconds_cell(summary, "p95") == "≥ 300.00"
    empty = censored_summary([], [])
    assert empty["p95"] is None and seconds_cell(empty, "p95") == "–"
    assert censored_percentile([], [], 95) == (None, False)
    assert censored_percentile([1.0, 2.0], [], 95) == (pytest.approx(1.95), False)
    assert censored_percentile([1.0], [5.0], 95) == (pytest.approx(4.8), True)


def _learner(index: int, served_turns: int, failure: Failure | None, lost: int) -> LearnerResult:
    result = LearnerResult(index)
    result.samples = [
        MessageSample(index, 0, "urdu_utterance", "you_said_audio", 0.0, 10.0, 12.0, 5, 9.0, "c")
        for _ in range(served_turns)
    ]
    result.unserved = [
        UnservedMessage(index, 0, "english_utterance", 1.0, 25_000.0, "dropped")
        for _ in range(lost)
    ]
    result.failure = failure
    return result


def test_failure_figures_and_words() -> None:
    keepalive = Failure(0, 0, "dropped", "keepalive timeout", "ConnectionClosedError", 1011)
    learners = [
        _learner(0, 1, keepalive, 1),
        _learner(1, 0, Failure(1, 0, "dropped", "keepalive timeout", "X", 1011), 1),
        _learner(2, 2, None, 0),
    ]
    figures = failure_figures(learners, cycles_planned=6, cycles_completed=2)
    assert figures == {
        "learners": 3,
        "learners_dropped": 2,
        "by_kind": {"dropped": 2},
        "reasons": {"keepalive timeout": 2},
        "close_codes": {"1011": 2},
        "turns_sent": 5,
        "turns_served": 3,
        "turns_refused_busy": 0,
        "turns_not_served": 2,
        "messages_not_served": 2,
        "timeouts": 0,
        "cycles_planned": 6,
        "cycles_not_completed": 4,
    }
    assert failure_words(figures) == (
        "served 3 of 5 turns; 2 of 3 learners dropped (2 keepalive timeout); "
        "4 of 6 cycles not completed"
    )
    healthy = failure_figures([_learner(0, 2, None, 0)], cycles_planned=1, cycles_completed=1)
    assert failure_words(healthy) is None
    assert failure_words(None) is None


def test_turns_answered_busy_are_sent_but_not_served() -> None:
    learner = _learner(0, 2, None, 0)
    busy = MessageSample(0, 0, "urdu_utterance", "error", 0.0, 3.0, None, 0, 1.0, "c", "busy")
    learner.samples.append(busy)
    figures = failure_figures([learner], cycles_planned=1, cycles_completed=1)
    assert (figures["turns_sent"], figures["turns_served"], figures["turns_refused_busy"]) == (
        3,
        2,
        1,
    )
    assert failure_words(figures) == (
        "served 2 of 3 turns (1 answered busy); 0 of 1 learners dropped; "
        "0 of 1 cycles not completed"
    )
