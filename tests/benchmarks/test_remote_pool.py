"""benchmarks/remote_pool.py on a short run: the pooled client opens one connection."""

from __future__ import annotations

import multiprocessing

import remote_pool


async def test_pooled_calls_reuse_one_connection() -> None:
    port = remote_pool.free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=remote_pool.serve, args=(port,), daemon=True
    )
    server.start()
    try:
        remote_pool.wait_ready(port)
        summary = await remote_pool.measure(port, calls=5, runs=1)
    finally:
        server.terminate()
        server.join(timeout=10)
    assert summary["pooled"] == {
        "median_ms_per_call": summary["pooled"]["median_ms_per_call"],  # type: ignore[index]
        "connections_opened_per_run": 1,
        "connections_reused_per_run": 4,
    }
    assert summary["new client"]["connections_opened_per_run"] == 5  # type: ignore[index]
    assert summary["no keep-alive"]["connections_opened_per_run"] == 5  # type: ignore[index]
