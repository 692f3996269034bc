"""What the pooled client of a remote provider saves: connections and time per call.

Starts a minimal OpenAI-compatible server in its own process on the loopback interface
(uvicorn with a one-route Starlette app answering ``POST /v1/chat/completions`` with a
fixed, small chat completion: the server does no work, so what is measured is the
client side's cost of a call). Then, in one run, the same remote call made through:

* ``pooled``: one ``RemoteProvider`` (one ``httpx.AsyncClient`` for every call, as the
  app holds it for the life of the process: kept-alive connections from its pool);
* ``no keep-alive``: one provider whose pool keeps no idle connection
  (``max_keepalive_connections=0``): the same client, a new TCP connection per call
  (what the pool saves on connections alone);
* ``new client``: a new ``RemoteProvider`` (so a new ``httpx.AsyncClient``, a new
  connection and a TLS context it has to build) for each call, closed after it.

Both go through the whole provider (breaker, retry wrapper, bounded read, trace
counting), so the connection counts are the provider's own ``connections_opened`` /
``connections_reused``. Each run makes ``--calls`` sequential calls per variant; the
figures are the median over ``--runs`` runs of each run's median time per call.

    PYTHONPATH=src python benchmarks/remote_pool.py [--calls 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import time
from dataclasses import dataclass

from ustad.remote_settings import RemoteTranslationSettings
from ustad.speech.remote.provider import Answer, RemoteProvider

HOST = "127.0.0.1"
ANSWER = json.dumps(
    {
        "id": "bench",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": json.dumps({"urdu": "شکریہ", "english": "Thank you."}),
                },
                "finish_reason": "stop",
            }
        ],
    }
).encode()


def serve(port: int) -> None:
    """The server process: one route, a fixed answer, uvicorn's defaults (keep-alive 5 s)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def completions(request: Request) -> Response:
        await request.body()
        return Response(ANSWER, media_type="application/json")

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(port: int, timeout: float = 30.0) -> None:
    """Return once the server accepts connections (``RuntimeError`` after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the benchmark server did not start")


BODY = {"model": "bench", "messages": [{"role": "user", "content": "shukriya"}]}


def content(answer: Answer) -> bytes:
    """The answer's bytes (the provider's ``parse`` step)."""
    return answer.content


@dataclass(frozen=True)
class Run:
    """One variant's run: median seconds per call and the connections it made."""

    median: float
    opened: int
    reused: int


async def pooled(settings: RemoteTranslationSettings, calls: int) -> Run:
    """``calls`` calls through one provider (one pooled client)."""
    provider = RemoteProvider("translation", settings)
    times = []
    try:
        for _ in range(calls):
            started = time.perf_counter()
            await provider.post("chat/completions", content, json=BODY)
            times.append(time.perf_counter() - started)
    finally:
        await provider.aclose()
    stats = provider.stats()
    return Run(statistics.median(times), stats.connections_opened, stats.connections_reused)


async def new_client_each_call(settings: RemoteTranslationSettings, calls: int) -> Run:
    """``calls`` calls, each through a provider (and client) of its own, closed after it."""
    times = []
    opened = reused = 0
    for _ in range(calls):
        started = time.perf_counter()
        provider = RemoteProvider("translation", settings)
        try:
            await provider.post("chat/completions", content, json=BODY)
        finally:
            await provider.aclose()
        times.append(time.perf_counter() - started)
        stats = provider.stats()
        opened += stats.connections_opened
        reused += stats.connections_reused
    return Run(statistics.median(times), opened, reused)


async def measure(port: int, calls: int, runs: int) -> dict[str, object]:
    """Alternate the two variants ``runs`` times; medians of the runs' medians."""
    settings = RemoteTranslationSettings(base_url=f"http://{HOST}:{port}/v1", retries=0)
    # Warm both paths (imports, the server's first request).
    await pooled(settings, 5)
    await new_client_each_call(settings, 5)
    no_keepalive = settings.model_copy(update={"max_keepalive_connections": 0})
    results: dict[str, list[Run]] = {"pooled": [], "no keep-alive": [], "new client": []}
    for _ in range(runs):
        results["pooled"].append(await pooled(settings, calls))
        results["no keep-alive"].append(await pooled(no_keepalive, calls))
        results["new client"].append(await new_client_each_call(settings, calls))
    summary: dict[str, object] = {"calls_per_run": calls, "runs": runs}
    for name, rows in results.items():
        summary[name] = {
            "median_ms_per_call": round(1000 * statistics.median(r.median for r in rows), 3),
            "connections_opened_per_run": statistics.median(r.opened for r in rows),
            "connections_reused_per_run": statistics.median(r.reused for r in rows),
        }
    base = summary["new client"]
    pool = summary["pooled"]
    assert isinstance(base, dict) and isinstance(pool, dict)
    bare = summary["no keep-alive"]
    assert isinstance(bare, dict)
    summary["speedup"] = round(base["median_ms_per_call"] / pool["median_ms_per_call"], 2)
    summary["speedup_over_no_keepalive"] = round(
        bare["median_ms_per_call"] / pool["median_ms_per_call"], 2
    )
    return summary


def main() -> None:
    """Start the server, measure, print the figures as JSON and a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="sequential calls per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per variant")
    args = parser.parse_args()
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port,), daemon=True)
    server.start()
    try:
        wait_ready(port)
        summary = asyncio.run(measure(port, args.calls, args.runs))
    finally:
        server.terminate()
        server.join(timeout=10)
    print(json.dumps(summary, indent=2))
    print(f"\n| variant | median ms/call | connections opened | reused | (per {args.calls} calls)")
    print("|---|---|---|---|")
    for name in ("pooled", "no keep-alive", "new client"):
        row = summary[name]
        assert isinstance(row, dict)
        print(
            f"| {name} | {row['median_ms_per_call']} | {row['connections_opened_per_run']} "
            f"| {row['connections_reused_per_run']} |"
        )
    print(f"\nnew client per call / pooled: {summary['speedup']}x the time per call")
    print(f"no keep-alive / pooled: {summary['speedup_over_no_keepalive']}x the time per call")


if __name__ == "__main__":
    main()
