"""``ustad bench``: simulated learners against a real server, results to a folder.

    ustad bench --learners 1,4,8 --cycles 2            # starts its own server per run
    ustad bench --url http://127.0.0.1:8000 --pid PID  # an existing server

Writes ``results.json``, ``latency_distribution.png`` and ``p95_vs_learners.png``
(and each started server's log) to ``--results`` (default ``results/<timestamp>``)
and prints a summary table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ustad.bench.compare import compare_configs, compare_table
from ustad.bench.failures import failure_words
from ustad.bench.learner import CycleOutcome
from ustad.bench.report import format_table, write_plots, write_results
from ustad.bench.runner import BenchPlan, Progress, Target, run_bench
from ustad.bench.server import ServerConfig
from ustad.bench.tables import runs_of
from ustad.bench.workload import DEFAULT_ZIPF, Workload, learner_pool, shared_data_dir, urdu_pool


class _TqdmProgress(Progress):
    """A tqdm bar counting finished cycles over the whole bench."""

    def __init__(self, total: int, enabled: bool) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]  # ships no type hints

        self._bar = tqdm(total=total, unit="cycle", disable=not enabled, file=sys.stderr)
        self._incomplete = 0

    def describe(self, text: str) -> None:
        self._bar.set_description(text)

    def cycle_done(self, outcome: CycleOutcome) -> None:
        if outcome not in ("passed", "skipped"):
            self._incomplete += 1
            self._bar.set_postfix(incomplete=self._incomplete)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("learner counts must be positive integers")
    return levels


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parser() -> argparse.ArgumentParser:
    """The ``ustad bench`` argument parser."""
    p = argparse.ArgumentParser(
        prog="ustad bench",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--url", help="benchmark this running server instead of starting one")
    p.add_argument("--pid", type=int, help="process id of the --url server (CPU, memory)")
    p.add_argument(
        "--learners",
        type=_levels,
        default=[1, 4, 8],
        help="concurrent learners; a comma-separated list runs once per count",
    )
    p.add_argument("--cycles", type=int, default=2, help="learn cycles per learner")
    p.add_argument(
        "--think-time", type=float, default=1.0, help="mean seconds between a reply and the next"
    )
    p.add_argument(
        "--zipf", type=float, default=DEFAULT_ZIPF, help="Zipf exponent of sentence choice"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    p.add_argument(
        "--synthetic-urdu",
        type=int,
        default=8,
        metavar="K",
        help="espeak-ng renderings of phrase-bank sentences added to the 2 real Urdu clips",
    )
    p.add_argument("--attempts", type=int, default=2, help="English attempts before skipping")
    p.add_argument("--mode", choices=["urdu", "english"], default="urdu", help="language_mode")
    p.add_argument("--results", type=Path, help="results folder (default results/<timestamp>)")
    p.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    p.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment override for the started server (repeatable)",
    )
    p.add_argument("--name", default="default", help="name of the server configuration")
    p.add_argument(
        "--compare",
        action="store_true",
        help="run the naive baseline (USTAD_RUNTIME__MODE=baseline) and the optimised "
        "server on the same workload and print the seed's claims next to the ratios",
    )
    p.add_argument(
        "--models-dir",
        type=Path,
        help="where Whisper base is assembled (default USTAD_STT__MODELS_DIR or ./var/models)",
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for a reply")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _models_dir(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit.resolve()
    from_env = os.environ.get("USTAD_STT__MODELS_DIR")
    # Absolute: the server runs in its own temporary working directory.
    return Path(from_env).resolve() if from_env else (Path.cwd() / "var" / "models").resolve()


def run(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ustad bench``; returns the exit status."""
    args = parser().parse_args(argv)
    if args.url and args.compare:
        print("ustad bench: --compare starts its own servers; drop --url", file=sys.stderr)
        return 2
    if args.url and args.env:
        print("ustad bench: --env applies to a started server, not to --url", file=sys.stderr)
        return 2
    try:
        workload = Workload(
            learners=max(args.learners),
            cycles=args.cycles,
            think_time=args.think_time,
            zipf=args.zipf,
            seed=args.seed,
            synthetic_urdu=args.synthetic_urdu,
            attempts=args.attempts,
            language_mode=args.mode,
        )
    except ValueError as error:
        print(f"ustad bench: {error}", file=sys.stderr)
        return 2
    data = shared_data_dir(args.data)
    if not data.is_dir():
        print(f"ustad bench: no shared data at {data} (use --data)", file=sys.stderr)
        return 2
    results_dir = args.results or Path("results") / datetime.now().strftime("%Y%m%d-%H%M%S")
    plan = BenchPlan(
        workload=workload,
        levels=args.learners,
        configs=compare_configs(dict(args.env))
        if args.compare
        else (ServerConfig(args.name, dict(args.env)),),
        target=Target(args.url, args.pid) if args.url else None,
        models_dir=_models_dir(args.models_dir),
        reply_timeout=args.timeout,
    )
    urdu = urdu_pool(data, synthetic=args.synthetic_urdu, seed=args.seed)
    learners = learner_pool(data)
    configs = 1 if args.url else len(plan.configs)
    progress = _TqdmProgress(
        sum(plan.levels) * workload.cycles * configs, enabled=not args.no_progress
    )
    results = asyncio.run(
        run_bench(
            plan,
            urdu,
            learners,
            results_dir=results_dir,
            progress=progress,
            command=["ustad", "bench", *(argv if argv is not None else sys.argv[1:])],
        )
    )
    path = write_results(results, results_dir)
    plots = write_plots(results, results_dir)
    print(format_table(results))
    if args.compare:
        print("\n" + compare_table(results))
    print(f"\nresults: {path}")
    for plot in plots:
        print(f"plot:    {plot}")
    return _failure_status(results)


def _failure_status(results: Mapping[str, Any]) -> int:
    """1, with what each run failed to serve on stderr, if any learner failed; else 0."""
    failed = [
        error
        for config in results["configs"].values()
        for run_result in config["runs"].values()
        for error in run_result["errors"]
    ]
    if not failed:
        return 0
    for name, level, run_result in runs_of(results):
        words = failure_words(run_result.get("failures"))
        if words:
            print(f"{name}, {level} learners: {words}", file=sys.stderr)
    print(f"{len(failed)} learner errors, e.g. {failed[0]}", file=sys.stderr)
    return 1
