"""ustad's speech endpoints against the Wyoming peers, on the same model files and clips.

* **STT**: ``POST /v1/audio/transcriptions`` (``language=en``: Whisper tiny.en int8,
  the packaged English recogniser) against wyoming-faster-whisper pointed at that
  same model directory, with the same compute type, CPU threads per call and beam
  size (1; with ``--peer-default-beam`` also the peer's own default, 5 on x86).
  Every request is one speechocean762 learner clip: ustad gets the WAV file, the
  peer the same 16 kHz 16-bit samples as Wyoming audio chunks, so both decode the
  same audio. Per side: latency p50/p95, clips per second, and the WER of the
  transcripts against the sentences the clips read (so a side cannot win by
  decoding less well).
* **TTS**: ``POST /v1/audio/speech`` (voice ``en``, ``response_format=wav``) against
  wyoming-piper speaking the same Piper voice file. Two workloads: phrase-bank
  sentences drawn Zipf(1.1) (repeats, as learners produce them), and all-distinct
  sentences at one client (the engines alone). ustad caches what it synthesised, so
  every ustad TTS run gets a fresh server: each run starts cold.

Each (workload, clients) level runs ``--repeats`` times, the sides in rotated order
so a slow stretch of a shared machine does not always hit the same one. Throughput is
the median over the repeats; latency percentiles pool the repeats' requests. One
warm-up request per server is not counted. Every run records the CPU the server
under test used per request and the CPU the rest of the machine used meanwhile
(``other_cpu_percent``, 100 = one core): a run with a high figure measured the
neighbours too.

Usage (after ``scripts/install-peers.sh``; ``make bench-peers`` does both)::

    .venv/bin/python benchmarks/peers.py [--clips 40] [--requests 120] [--clients 1,8]
        [--repeats 3] [--results DIR] [--quick]

Writes ``DIR/results.json`` (default ``results/peers-<timestamp>``) and prints tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from peers_report import format_tables, targets
from peers_runs import USTAD_ENV, Plan, progress, run_stt, run_tts

from ustad.bench.report import machine, write_results
from ustad.bench.server import BENCH_DEFAULTS

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
PEERS_VENV: Final = REPO_ROOT / "var" / "peers-venv"
SCHEMA: Final = "ustad-peers/1"
PEER_PACKAGES: Final = (
    "wyoming-faster-whisper",
    "wyoming-piper",
    "wyoming",
    "faster-whisper",
    "ctranslate2",
    "piper-tts",
    "onnxruntime",
)


def peer_versions(python: Path) -> dict[str, str | None]:
    """Installed versions of the peers and their engines in the peers' venv."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({n: v(n) for n in sys.argv[1:]}))\n"
    )
    out = subprocess.run(
        [str(python), "-c", script, *PEER_PACKAGES], capture_output=True, text=True, check=True
    )
    versions: dict[str, str | None] = json.loads(out.stdout)
    return versions


# ------------------------------------------------------------------ main


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--clips", type=int, default=40, help="learner clips per STT run")
    p.add_argument("--requests", type=int, default=120, help="requests per Zipf TTS run")
    p.add_argument("--distinct", type=int, default=30, help="requests of the all-distinct TTS run")
    p.add_argument("--clients", default="1,8", help="concurrent clients, comma-separated")
    p.add_argument("--repeats", type=int, default=3, help="runs per level (median throughput)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    p.add_argument(
        "--peer-default-beam",
        action="store_true",
        help="also run wyoming-faster-whisper with its own default beam (5)",
    )
    p.add_argument("--only", choices=("stt", "tts"), help="run one half only")
    p.add_argument("--results", type=Path, help="results folder (default results/peers-<time>)")
    p.add_argument("--peers-venv", type=Path, default=PEERS_VENV, help="the peers' virtualenv")
    p.add_argument(
        "--models-dir",
        type=Path,
        default=REPO_ROOT / "var" / "models",
        help="where ustad assembles Whisper base once (shared by the started servers)",
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes for a smoke run (6 clips, 16 requests)"
    )
    return p


def make_plan(args: argparse.Namespace) -> Plan:
    """The plan from the options (``--quick`` overrides the sizes)."""
    try:
        clients = tuple(int(c) for c in args.clients.split(","))
    except ValueError as error:
        raise SystemExit(f"--clients must be comma-separated integers: {args.clients!r}") from error
    if args.quick:
        args.clips, args.requests, args.distinct, args.repeats = 6, 16, 6, 1
    if min(clients) < 1 or min(args.clips, args.requests, args.distinct, args.repeats) < 1:
        raise SystemExit("--clients, --clips, --requests, --distinct and --repeats must be >= 1")
    return Plan(
        clips=args.clips,
        requests=args.requests,
        distinct=args.distinct,
        clients=clients,
        repeats=args.repeats,
        seed=args.seed,
        peer_default_beam=args.peer_default_beam,
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both halves; the results dictionary."""
    plan = make_plan(args)
    # Ctrl-C or a plain kill cancels the run, so every started server is stopped on the
    # way out instead of being left running.
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    python = args.peers_venv / "bin" / "python"
    if not python.is_file():
        raise SystemExit(f"no peers virtualenv at {args.peers_venv}: run scripts/install-peers.sh")
    stamp = datetime.now(UTC)
    directory = args.results or REPO_ROOT / "results" / f"peers-{stamp:%Y%m%d-%H%M%S}"
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "created": stamp.isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": machine(),
        "plan": plan.__dict__ | {"clients": list(plan.clients)},
        "peer_versions": peer_versions(python),
        "ustad_server_env": {**BENCH_DEFAULTS, **USTAD_ENV},
    }
    models_dir = args.models_dir.resolve()
    if args.only != "tts":
        results["stt"] = await run_stt(plan, models_dir, python, logs)
    if args.only != "stt":
        results["tts"] = await run_tts(plan, models_dir, python, logs)
    if "stt" in results and "tts" in results:
        results["targets"] = targets(results)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results(results, directory)
    progress(f"results: {path}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    try:
        results = asyncio.run(run(args))
    except asyncio.CancelledError:
        print("peers benchmark interrupted; servers stopped", file=sys.stderr)
        return 130
    print(format_tables(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
