"""Learners' turns with and without REST clients hammering the engines, in one run.

    .venv/bin/python benchmarks/rest_pressure.py [--learners 2] [--rest 6] [--turns 8]

Starts ``ustad serve`` (real engines, defaults but for the rate limits, which would
only measure the limiter: every client here is 127.0.0.1). Each learner says a real
learner's English sentence as the repeat of a phrase-bank target, again and again,
and the client-side round trip of each turn is recorded. Phase 1: the learners
alone. Phase 2: the same, while ``--rest`` clients post real clips to
``/v1/audio/transcriptions`` without pause (a 503 is counted and retried after its
``Retry-After``). Prints the learners' median and p95 turn in each phase, their
ratio (the target is at most 2x), and what the REST clients got.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ustad.bench.server import ServerConfig, ServerProcess
from ustad.bench.workload import learner_pool, real_urdu_clips, shared_data_dir


async def receive(ws: websockets.ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await ws.recv())
    if "audio_format" in message:
        await ws.recv()
    return message


async def learner(url: str, urdu: bytes, english: bytes, turns: int, out: list[float]) -> None:
    """One learner: an Urdu sentence, then ``turns`` timed English repeats."""
    async with websockets.connect(f"{url}/ws/learn?language_mode=english", max_size=None) as ws:
        await ws.send(json.dumps({"audio_base64": base64.b64encode(urdu).decode()}))
        await receive(ws)
        await ws.send(json.dumps({"type": "you_said_complete"}))
        await receive(ws)
        await ws.send(json.dumps({"type": "word_by_word_complete"}))
        await receive(ws)
        payload = json.dumps({"audio_base64": base64.b64encode(english).decode()})
        for _ in range(turns):
            started = time.perf_counter()
            await ws.send(payload)
            reply = await receive(ws)
            out.append(time.perf_counter() - started)
            if reply["step"] == "feedback_step":
                await ws.send(json.dumps({"type": "feedback_complete"}))
                await receive(ws)
                await ws.send(json.dumps({"type": "word_by_word_complete"}))
                await receive(ws)
            elif reply["step"] == "await_next":
                await ws.send(json.dumps({"audio_base64": base64.b64encode(urdu).decode()}))
                await receive(ws)
                await ws.send(json.dumps({"type": "you_said_complete"}))
                await receive(ws)
                await ws.send(json.dumps({"type": "word_by_word_complete"}))
                await receive(ws)


async def rest_client(url: str, clip: bytes, stop: asyncio.Event, counts: dict[str, int]) -> None:
    """Posts transcriptions without pause until ``stop``."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        while not stop.is_set():
            response = await http.post(
                "/v1/audio/transcriptions",
                files={"file": ("clip.wav", clip, "audio/wav")},
                data={"model": "whisper-1"},
            )
            counts[str(response.status_code)] = counts.get(str(response.status_code), 0) + 1
            if response.status_code == 503:
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def phase(
    url: str, args: argparse.Namespace, urdu: bytes, english: bytes, clip: bytes, rest: int
) -> tuple[list[float], dict[str, int]]:
    times: list[float] = []
    counts: dict[str, int] = {}
    stop = asyncio.Event()
    hammers = [asyncio.create_task(rest_client(url, clip, stop, counts)) for _ in range(rest)]
    await asyncio.sleep(1.0 if rest else 0.0)  # let the REST load build up first
    await asyncio.gather(
        *(
            learner(url.replace("http", "ws"), urdu, english, args.turns, times)
            for _ in range(args.learners)
        )
    )
    stop.set()
    await asyncio.gather(*hammers)
    return times, counts


class OlderServerProcess(ServerProcess):
    """A server from an older checkout, which refuses settings it does not know."""

    def environment(self) -> dict[str, str]:
        env = super().environment()
        return {k: v for k, v in env.items() if not k.startswith("USTAD_LIMITS__")}


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2)
    parser.add_argument("--rest", type=int, default=6)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument(
        "--checkout",
        type=Path,
        help="serve another checkout's src/ (e.g. an older commit, for a before/after figure)",
    )
    args = parser.parse_args()
    data = shared_data_dir()
    urdu = real_urdu_clips(data)[0].data
    english_clips = learner_pool(data)
    english = english_clips[2].data
    clip = english_clips[5].data
    env = {
        "USTAD_LIMITS__CLIENT_RATE": "1000000/minute",
        "USTAD_LIMITS__LEARNER_TURN_RATE": "1000000/minute",
    }
    if args.checkout is not None:  # an older ustad knows neither limit
        env = {"PYTHONPATH": str(args.checkout.resolve() / "src")}
    server_type = ServerProcess if args.checkout is None else OlderServerProcess
    async with server_type(ServerConfig("rest-pressure", env)) as server:
        url = server.http_url
        await phase(url, args, urdu, english, clip, 0)  # warm the caches and the models
        alone, _ = await phase(url, args, urdu, english, clip, 0)
        loaded, counts = await phase(url, args, urdu, english, clip, args.rest)
    ratio = statistics.median(loaded) / statistics.median(alone)
    print(f"learners alone:            {summary(alone)}  ({len(alone)} turns)")
    print(f"with {args.rest} REST clients:     {summary(loaded)}  ({len(loaded)} turns)")
    print(f"median ratio: {ratio:.2f}x (target <= 2x)")
    print(f"REST answers: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    asyncio.run(main())
