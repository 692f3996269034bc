"""Median stage timings of learn-cycle turns against a running ustad.

    .venv/bin/python benchmarks/turn_timings.py [--url ws://127.0.0.1:8000] [--cycles 10]

Each cycle says a real Urdu clip, acknowledges, then repeats with a real learner
clip (speechocean762) and skips to the next sentence. Prints the median of each
stage (ms) for the Urdu turns and the English turns, as the server reported them
in ``timings``, and the round trip seen by the client (``client``), plus the very
first turn of each kind (before the caches hold its sentence). Against a fresh
server, run it once: later runs find the replies cached.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import websockets

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


async def receive(ws: websockets.ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await ws.recv())
    if "audio_format" in message:
        await ws.recv()
    return message


async def cycle(
    ws: websockets.ClientConnection,
    urdu: bytes,
    english: bytes,
    samples: dict[str, list[dict[str, float]]],
) -> None:
    started = time.perf_counter()
    await ws.send(json.dumps({"audio_base64": base64.b64encode(urdu).decode()}))
    reply = await receive(ws)
    samples["urdu"].append({**reply["timings"], "client": (time.perf_counter() - started) * 1000})
    if reply["step"] != "you_said_audio":
        return
    await ws.send(json.dumps({"type": "you_said_complete"}))
    await receive(ws)
    await ws.send(json.dumps({"type": "word_by_word_complete"}))
    await receive(ws)
    started = time.perf_counter()
    await ws.send(english)
    reply = await receive(ws)
    samples["english"].append(
        {**reply["timings"], "client": (time.perf_counter() - started) * 1000}
    )
    if reply["step"] != "await_next":
        await ws.send(json.dumps({"type": "next_sentence"}))
        await receive(ws)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000")
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args()
    urdu_clips = sorted((DATA / "urdu").glob("*.wav"))
    with (DATA / "speechocean762" / "index.tsv").open(encoding="utf-8") as handle:
        learner = [
            DATA / "speechocean762" / row["file"] for row in csv.DictReader(handle, delimiter="\t")
        ]
    samples: dict[str, list[dict[str, float]]] = defaultdict(list)
    async with websockets.connect(
        f"{args.url}/ws/learn?language_mode=english", max_size=None
    ) as ws:
        for i in range(args.cycles):
            await cycle(
                ws,
                urdu_clips[i % len(urdu_clips)].read_bytes(),
                learner[i * 7 % len(learner)].read_bytes(),
                samples,
            )
    for kind, rows in samples.items():
        first = ", ".join(f"{k} {v:.0f}" for k, v in sorted(rows[0].items()))
        print(f"{kind} turn, first (caches cold), ms: {first}")
        stages = sorted({stage for row in rows for stage in row})
        medians = {
            stage: statistics.median(row[stage] for row in rows if stage in row) for stage in stages
        }
        print(
            f"{kind} turns (n={len(rows)}), median ms: "
            + ", ".join(f"{k} {v:.0f}" for k, v in medians.items())
        )


if __name__ == "__main__":
    asyncio.run(main())
