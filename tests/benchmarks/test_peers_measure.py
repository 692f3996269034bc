"""Workloads, the client loop and the summaries of the peers benchmark."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from peers_measure import (
    CpuWindow,
    Sample,
    combine_repeats,
    distinct_requests,
    latency_ms,
    ratio,
    run_clients,
    run_summary,
    sample_items,
    side_order,
    zipf_requests,
)

SENTENCES = [f"Sentence number {i}." for i in range(100)]


def test_zipf_requests_repeat_a_few_sentences_and_are_seeded() -> None:
    requests = zipf_requests(SENTENCES, 120, 1.1, seed=0)
    counts = Counter(requests)
    assert len(requests) == 120
    assert requests == zipf_requests(SENTENCES, 120, 1.1, seed=0)
    assert requests != zipf_requests(SENTENCES, 120, 1.1, seed=1)
    # Rank 1 of 100 under Zipf(1.1) has probability ~0.19: far more than uniform's 0.01.
    assert counts.most_common(1)[0][1] >= 12
    assert len(counts) < 80


def test_zipf_zero_exponent_is_uniform_over_the_sentences() -> None:
    counts = Counter(zipf_requests(SENTENCES[:4], 4000, 0.0, seed=3))
    assert set(counts) == set(SENTENCES[:4])
    assert all(900 < n < 1100 for n in counts.values())


def test_zipf_refuses_duplicates_and_empty_workloads() -> None:
    with pytest.raises(ValueError, match="distinct"):
        zipf_requests(["a", "a"], 5, 1.1, seed=0)
    with pytest.raises(ValueError, match="at least 1"):
        zipf_requests(SENTENCES, 0, 1.1, seed=0)


def test_distinct_requests_never_repeat() -> None:
    requests = distinct_requests(SENTENCES, 30, seed=0)
    assert len(set(requests)) == 30
    assert requests == distinct_requests(SENTENCES, 30, seed=0)
    with pytest.raises(ValueError, match=r"within 1\.\.100"):
        distinct_requests(SENTENCES, 101, seed=0)


def test_sample_items_is_seeded_without_replacement() -> None:
    items = sample_items(list(range(50)), 10, seed=7)
    assert len(set(items)) == 10
    assert items == sample_items(list(range(50)), 10, seed=7)
    with pytest.raises(ValueError, match=r"within 1\.\.2"):
        sample_items([1, 2], 3, seed=0)


def test_side_order_gives_every_side_the_first_slot_in_turn() -> None:
    sides = ["ustad", "peer", "peer beam 5"]
    orders = [side_order(sides, r) for r in range(3)]
    assert [o[0] for o in orders] == sides
    assert all(sorted(o) == sorted(sides) for o in orders)
    assert side_order(sides, 3) == sides


async def test_run_clients_keeps_at_most_n_requests_in_flight() -> None:
    in_flight = peak = 0

    async def call(item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return item * 2

    samples, wall = await run_clients(list(range(20)), 4, call, request_timeout=5.0)
    assert peak == 4
    assert [s.index for s in samples] == list(range(20))
    assert [s.result for s in samples] == [2 * i for i in range(20)]
    assert {s.client for s in samples} == {0, 1, 2, 3}
    # 20 requests of 10 ms through 4 clients: about 50 ms, far from 200 ms sequential.
    assert 0.04 <= wall < 0.15


async def test_run_clients_records_failures_and_timeouts_and_goes_on() -> None:
    async def call(item: int) -> int:
        if item == 1:
            raise RuntimeError("boom")
        if item == 2:
            await asyncio.sleep(1.0)
        return item

    samples, _ = await run_clients([0, 1, 2, 3], 1, call, request_timeout=0.05)
    assert [s.error is None for s in samples] == [True, False, False, True]
    assert samples[1].error == "RuntimeError: boom"
    assert samples[2].error is not None and samples[2].error.startswith("TimeoutError")
    summary = run_summary(samples, wall=1.0)
    assert summary["answered"] == 2
    assert summary["errors"] == 2
    assert summary["throughput_per_second"] == 2.0
    assert summary["request_ms"][1:3] == [None, None]


def test_latency_summary_is_in_milliseconds() -> None:
    figures = latency_ms([0.1, 0.2, 0.3, 0.4, 1.0])
    assert figures["count"] == 5
    assert figures["p50"] == 300.0
    assert figures["p95"] == pytest.approx(880.0)
    assert latency_ms([])["p50"] is None


def test_combine_repeats_takes_the_median_throughput_and_pools_latencies() -> None:
    runs = [
        run_summary([Sample(0, 0, 0.5, "x")], wall=1.0),
        run_summary([Sample(0, 0, 0.5, "x")] * 3, wall=1.0),
        run_summary([Sample(0, 0, 0.5, "x")] * 2, wall=1.0),
    ]
    combined = combine_repeats(runs, [0.1, 0.2, 0.3])
    assert combined["throughput_per_second"] == 2.0
    assert combined["throughput_runs"] == [1.0, 3.0, 2.0]
    assert combined["latency_ms"]["p50"] == 200.0
    with pytest.raises(ValueError, match="no runs"):
        combine_repeats([], [])


def test_ratio_guards_missing_figures() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None
    assert ratio(1.0, 0.0) is None


def test_other_cpu_is_what_nobody_measured_used() -> None:
    window = CpuWindow(
        wall=10.0, machine_busy=16.0, bench=1.0, servers={"ustad": 12.0, "peer": 0.5}
    )
    figures = window.summary("ustad", requests=40)
    assert figures["server_cpu_ms_per_request"] == 300.0
    assert figures["other_cpu_percent"] == 25.0
    # Counters read at slightly different moments can make "other" negative: clamp it.
    assert CpuWindow(1.0, 0.5, 0.2, {"ustad": 0.4}).summary("ustad", 1)["other_cpu_percent"] == 0
