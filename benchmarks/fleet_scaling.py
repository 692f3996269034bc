"""One worker against a fleet of several, through nginx, at the same cores; and Redis
killed and restarted under load.

For each worker count it starts a private Redis (so every fleet begins with cold shared
caches), a fresh PostgreSQL database and ``scripts/fleet.sh`` (nginx in front of the
workers), then runs ``ustad bench --url`` through nginx once per learner count and reads
every worker's ``/metrics`` directly. The engine threads are split so that the fleet has
the same number in all (``--engine-threads``, default 2: one worker with 2, two with 1
each). Printed per worker count and learner count: turn latency percentiles, completed
cycles per minute, the workers' CPU (summed), and the replies' and translations' hits
and lookups per cache tier (memory, ``ustad_cache_*``; the disk audio store,
``ustad_audio_store_*``; Redis, ``ustad_shared_cache_*``), summed over the workers.

``--kill-redis AFTER DOWN`` kills the private Redis (SIGKILL) AFTER seconds into the
largest learner count's run and starts it again DOWN seconds later; the run must finish
with no failed turn, every worker's ``ustad_redis_up`` must read 0 while Redis is down
and 1 again after, with no worker restarted.

    cd benchmarks
    PYTHONPATH=../src ../.venv/bin/python fleet_scaling.py --workers 1,2 --learners 1,4,8 --runs 3
    PYTHONPATH=../src ../.venv/bin/python fleet_scaling.py --workers 2 --learners 8 \
        --kill-redis 20 15
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
FLEET = REPO / "scripts" / "fleet.sh"
PG_ADMIN = os.environ.get("FLEET_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# As ustad bench's own servers: one client address (nginx's forwarded 127.0.0.1) must
# not be rate limited, and no background synthesis of the phrase bank during the run.
BENCH_ENV = {
    "USTAD_AUDIO_STORE__PREGENERATE_PHRASES": "false",
    "USTAD_LIMITS__CLIENT_RATE": "1000000/minute",
    "USTAD_LIMITS__LEARNER_TURN_RATE": "1000000/minute",
}


def free_port(count: int = 1) -> int:
    """A port P with P .. P+count-1 free on 127.0.0.1 when asked."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no run of free ports")


class RedisServer:
    """A private ``redis-server`` (nothing on disk) on its own port."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--logfile", str(self.log)]
        self.process = subprocess.Popen(command)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


def fleet(command: str, directory: Path, env: dict[str, str], *args: str) -> None:
    """``scripts/fleet.sh <command> ... --dir <directory>``; raises when it fails."""
    done = subprocess.run(
        ["bash", str(FLEET), command, *args, "--dir", str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"fleet.sh {command} failed:\n{done.stdout}\n{done.stderr}")


def drop_database(name: str) -> None:
    """Drops the fleet's database (psql, through the maintenance DSN)."""
    subprocess.run(
        ["psql", PG_ADMIN, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        capture_output=True,
        check=False,
    )


def metrics(port: int) -> dict[tuple[str, str], float]:
    """One worker's ``/metrics``: (series, labels) to value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    series: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        found = SAMPLE.match(line)
        if found:
            series[(found["name"], found["labels"] or "")] = float(found["value"])
    return series


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes (their threads included)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def tier_rates(before: list[dict[tuple[str, str], float]], after: list[Any]) -> dict[str, Any]:
    """Hits and misses per cache tier and cache, summed over the workers, over a run."""
    tiers = {"memory": "ustad_cache", "disk": "ustad_audio_store", "redis": "ustad_shared_cache"}
    out: dict[str, Any] = {}
    for tier, prefix in tiers.items():
        caches: dict[str, dict[str, float]] = {}
        for b, a in zip(before, after, strict=True):
            for (name, labels), value in a.items():
                for kind in ("hits", "misses"):
                    if name == f"{prefix}_{kind}_total":
                        cache = (
                            labels.split('cache="', 1)[1].split('"', 1)[0]
                            if labels
                            else "tts_audio"
                        )
                        delta = value - b.get((name, labels), 0.0)
                        row = caches.setdefault(cache, {"hits": 0.0, "misses": 0.0})
                        row[kind] += delta
        out[tier] = {
            cache: {
                **row,
                "hit_rate": round(row["hits"] / (row["hits"] + row["misses"]), 3)
                if row["hits"] + row["misses"]
                else None,
            }
            for cache, row in sorted(caches.items())
            if row["hits"] + row["misses"]
        }
    return out


class RedisOutage(threading.Thread):
    """Kills Redis ``after`` s into a run, starts it ``down`` s later, and records what
    the workers' ``ustad_redis_up`` read meanwhile."""

    def __init__(self, redis: RedisServer, ports: list[int], after: float, down: float) -> None:
        super().__init__(daemon=True)
        self.redis, self.ports, self.after, self.down = redis, ports, after, down
        self.seen_down: set[int] = set()
        self.recovered_after: float | None = None

    def _up(self, port: int) -> float:
        return metrics(port).get(("ustad_redis_up", ""), -1.0)

    def run(self) -> None:
        time.sleep(self.after)
        self.redis.kill()
        killed = time.monotonic()
        while time.monotonic() - killed < self.down:
            self.seen_down |= {p for p in self.ports if self._up(p) == 0}
            time.sleep(0.5)
        self.redis.start()
        restarted = time.monotonic()
        while time.monotonic() - restarted < 120:
            if all(self._up(p) == 1 for p in self.ports):
                self.recovered_after = round(time.monotonic() - restarted, 1)
                return
            time.sleep(0.5)


def bench(url: str, learners: int, args: argparse.Namespace, results: Path) -> dict[str, Any]:
    """``ustad bench --url`` at one learner count; its run's results."""
    command = [sys.executable, "-m", "ustad.cli", "bench", "--url", url]
    command += ["--learners", str(learners), "--cycles", str(args.cycles)]
    command += ["--seed", str(args.seed), "--think-time", str(args.think_time)]
    command += ["--results", str(results), "--no-progress", "--name", "fleet"]
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
    data = json.loads((results / "results.json").read_text())
    return dict(data["configs"]["fleet"]["runs"][str(learners)])


def run_fleet(workers: int, args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    """Start a fleet of ``workers``, bench it at every learner count, stop it."""
    directory = out / f"fleet-{workers}"
    directory.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(free_port(), directory / "redis.log")
    redis.start()
    port = free_port(workers + 1)
    database = f"ustad_bench_fleet_{uuid.uuid4().hex[:8]}"
    per_worker = max(1, args.engine_threads // workers)
    env = {
        **os.environ,
        **BENCH_ENV,
        "FLEET_DB": database,
        "FLEET_NICE": "0",
        "USTAD_REDIS__URL": redis.url,
        "USTAD_RUNTIME__EXECUTOR_WORKERS": str(per_worker),
    }
    rows: list[dict[str, Any]] = []
    try:
        fleet("start", directory, env, "--workers", str(workers), "--port", str(port))
        pids = [int((directory / f"worker-{i}.pid").read_text()) for i in range(1, workers + 1)]
        ports = [port + i for i in range(1, workers + 1)]
        for learners in args.learners:
            outage = None
            if args.kill_redis and learners == max(args.learners):
                outage = RedisOutage(redis, ports, *args.kill_redis)
            before = [metrics(p) for p in ports]
            cpu_before, wall_before = cpu_seconds(pids), time.monotonic()
            if outage:
                outage.start()
            run = bench(f"http://127.0.0.1:{port}", learners, args, directory / f"bench-{learners}")
            if outage:
                outage.join()
            cpu = cpu_seconds(pids) - cpu_before
            wall = time.monotonic() - wall_before
            after = [metrics(p) for p in ports]
            row: dict[str, Any] = {
                "workers": workers,
                "engine_threads_per_worker": per_worker,
                "learners": learners,
                "per_turn": {
                    turn: {k: s["latency_ms"][k] for k in ("count", "p50", "p95", "p99")}
                    for turn, s in run["per_turn"].items()
                },
                "cycles": run["cycles"],
                "cycles_per_minute": run["throughput"]["cycles_per_minute"],
                "errors": run["errors"],
                "error_replies": run["error_replies"],
                "cpu_percent": round(100 * cpu / wall, 1),
                "tiers": tier_rates(before, after),
                "workers_alive": all(Path(f"/proc/{pid}").exists() for pid in pids),
            }
            if outage:
                row["redis_outage"] = {
                    "killed_after_s": outage.after,
                    "down_s": outage.down,
                    "workers_that_read_redis_down": len(outage.seen_down),
                    "all_up_again_after_s": outage.recovered_after,
                    "redis_errors": sum(
                        a.get(("ustad_redis_errors_total", ""), 0)
                        - b.get(("ustad_redis_errors_total", ""), 0)
                        for a, b in zip(after, before, strict=True)
                    ),
                }
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        try:
            fleet("stop", directory, env)
        finally:
            redis.kill()
            drop_database(database)
    return rows


def _latency(row: dict[str, Any], turn: str) -> str:
    t = row["per_turn"].get(turn)
    return f"{t['p50'] / 1000:.2f} / {t['p95'] / 1000:.2f}" if t else "–"


def _hits(row: dict[str, Any], cache: str) -> str:
    """``hits/lookups`` of one cache in each tier, memory first."""
    parts = []
    for tier in ("memory", "disk", "redis"):
        c = row["tiers"][tier].get(cache)
        parts.append(f"{int(c['hits'])}/{int(c['hits'] + c['misses'])}" if c else "–")
    return " · ".join(parts)


def failed_turns(row: dict[str, Any]) -> int:
    """Learner errors, error replies and cycles not completed in one run."""
    failed = len(row["errors"]) + sum(row["error_replies"].values())
    return int(failed + row["cycles"]["planned"] - row["cycles"]["completed"])


def median_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (workers, learners): the median of each run's latency percentiles,
    cycles per minute and CPU; cycles, failures and cache counts summed."""
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["workers"], row["learners"]), []).append(row)
    merged = []
    for runs in groups.values():
        first = runs[0]
        per_turn = {
            turn: {
                k: statistics.median(r["per_turn"][turn][k] for r in runs if turn in r["per_turn"])
                for k in ("count", "p50", "p95", "p99")
            }
            for turn in first["per_turn"]
        }
        tiers: dict[str, Any] = {}
        for r in runs:
            for tier, caches in r["tiers"].items():
                for cache, c in caches.items():
                    into = tiers.setdefault(tier, {}).setdefault(cache, {"hits": 0, "misses": 0})
                    into["hits"] += c["hits"]
                    into["misses"] += c["misses"]
        merged.append(
            {
                **first,
                "per_turn": per_turn,
                "cycles": {k: sum(r["cycles"][k] for r in runs) for k in ("planned", "completed")},
                "cycles_per_minute": statistics.median(r["cycles_per_minute"] for r in runs),
                "cpu_percent": statistics.median(r["cpu_percent"] for r in runs),
                "errors": [e for r in runs for e in r["errors"]],
                "error_replies": dict(sum((Counter(r["error_replies"]) for r in runs), Counter())),
                "tiers": tiers,
            }
        )
    return merged


def table(rows: list[dict[str, Any]]) -> str:
    """The summary table (Markdown)."""
    lines = [
        "| workers × engine threads | learners | Urdu p50 / p95 s | English p50 / p95 s "
        "| cycles/min | done/planned | failed | CPU % "
        "| replies: hits/lookups memory · disk · Redis | translations: memory · disk · Redis |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        failed = failed_turns(r)
        lines.append(
            f"| {r['workers']} × {r['engine_threads_per_worker']} | {r['learners']} "
            f"| {_latency(r, 'urdu')} | {_latency(r, 'english')} | {r['cycles_per_minute']:.1f} "
            f"| {r['cycles']['completed']}/{r['cycles']['planned']} | {failed} "
            f"| {r['cpu_percent']:.0f} | {_hits(r, 'tts_audio')} | {_hits(r, 'translation')} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    p.add_argument("--learners", default="1,4,8", help="learner counts, comma-separated")
    p.add_argument("--cycles", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--think-time", type=float, default=1.0)
    p.add_argument("--engine-threads", type=int, default=2, help="engine threads in all")
    p.add_argument("--kill-redis", type=float, nargs=2, metavar=("AFTER", "DOWN"))
    p.add_argument("--runs", type=int, default=1, help="fresh fleets per worker count")
    p.add_argument("--results", type=Path, default=Path("results") / "fleet-scaling")
    args = p.parse_args()
    args.learners = [int(n) for n in args.learners.split(",")]
    rows: list[dict[str, Any]] = []
    for run in range(args.runs):
        # Worker counts interleaved run by run, so a drift of the machine hits both alike.
        for workers in (int(n) for n in args.workers.split(",")):
            out = args.results.resolve() / f"run-{run}"
            rows += [{**row, "run": run} for row in run_fleet(workers, args, out)]
    (args.results / "fleet_scaling.json").write_text(json.dumps(rows, indent=2))
    if args.runs > 1:
        print("\nEach run:")
        print(table(rows))
        print(f"\nMedian of {args.runs} runs (counts summed):")
    print(table(median_rows(rows)))
    outages = [r["redis_outage"] for r in rows if "redis_outage" in r]
    failed = [r for r in rows if "redis_outage" in r and failed_turns(r)]
    if outages:
        print("Redis outage:", json.dumps(outages))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
