"""The server under test: started in its own process, watched through ``/proc``.

The bench starts ``ustad serve`` (``python -m ustad.cli serve``) so that the server
has its own interpreter, event loop and GIL: a server inside the bench process would
share the learners' loop and measure the bench as much as the server. Each start
gets a free port, a fresh temporary directory as its working directory (so its
``var/`` and any ``.env`` of the checkout do not leak in) with its own SQLite
database, and the environment overrides of its :class:`ServerConfig`. The only thing
shared between starts is the directory the packaged Whisper base model is
assembled into (``USTAD_STT__MODELS_DIR``): a 145 MB cache of pip-packaged data that
is the same for every run.

CPU time and memory are read from ``/proc/<pid>`` of the server and its child
processes (``--workers`` > 1), without psutil.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx

STARTUP_TIMEOUT: Final = 300.0
"""Seconds a server may take to load its models and answer ``/health``."""
BENCH_DEFAULTS: Final = {
    "USTAD_AUDIO_STORE__PREGENERATE_PHRASES": "false",
    # Every simulated client comes from 127.0.0.1: one address's rate limits would
    # measure the limiter, not the server.
    "USTAD_LIMITS__CLIENT_RATE": "1000000/minute",
    "USTAD_LIMITS__LEARNER_TURN_RATE": "1000000/minute",
}
"""Settings every started server gets unless its configuration overrides them.

A fresh server with an empty audio store would otherwise spend the run synthesising
all phrase-bank prompts in the background: a one-off catch-up that a long-running
server has finished, not part of serving learners, and a source of noise here."""
SAMPLE_INTERVAL: Final = 0.25
"""Seconds between two ``/proc`` samples."""
_PAGE_KIB: Final = 1024


@dataclass(frozen=True)
class ServerConfig:
    """One server set-up to benchmark: a name and its environment overrides."""

    name: str = "default"
    env: Mapping[str, str] = field(default_factory=dict)
    """``USTAD_*`` variables (or any other) set for the server process."""
    args: Sequence[str] = ()
    """Extra ``ustad serve`` arguments (e.g. ``--workers 2``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"name": self.name, "env": dict(self.env), "args": list(self.args)}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerStartError(RuntimeError):
    """The server exited or did not answer ``/health`` in time."""


class ServerProcess:
    """``ustad serve`` in a subprocess; use as an async context manager."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        models_dir: Path | None = None,
        log_path: Path | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        """``models_dir`` is where Whisper base is (or will be) assembled."""
        self.config = config
        self.models_dir = models_dir
        self.log_path = log_path
        self.host = host
        self.startup_timeout = startup_timeout
        self.port = 0
        self.workdir: Path | None = None
        self.startup_seconds = 0.0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        """Process id of the server."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    @property
    def http_url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port``."""
        return f"ws://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """The server's environment: inherited, the bench's defaults, then the overrides."""
        assert self.workdir is not None
        env = dict(os.environ)
        env.update(BENCH_DEFAULTS)
        env["USTAD_DB__URL"] = f"sqlite+aiosqlite:///{self.workdir / 'ustad.db'}"
        if self.models_dir is not None:
            env["USTAD_STT__MODELS_DIR"] = str(self.models_dir)
        env.update(self.config.env)
        return env

    def ustad_environment(self) -> dict[str, str]:
        """The ``USTAD_*`` part of :meth:`environment` (recorded in the results)."""
        return {k: v for k, v in sorted(self.environment().items()) if k.startswith("USTAD_")}

    async def __aenter__(self) -> ServerProcess:
        """Start the server and wait until ``/health`` answers."""
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the server."""
        await self.stop()

    async def start(self) -> None:
        """Start ``ustad serve`` and wait for ``/health``."""
        self.workdir = Path(tempfile.mkdtemp(prefix=f"ustad-bench-{self.config.name}-"))
        self.port = free_port(self.host)
        command = [
            sys.executable,
            "-m",
            "ustad.cli",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.config.args,
        ]
        log_file = self.log_path or self.workdir / "server.log"
        started = time.perf_counter()
        self._process = await spawn_logged(
            command, cwd=self.workdir, env=self.environment(), log_file=log_file
        )
        try:
            await self._wait_healthy(log_file)
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started

    async def _wait_healthy(self, log_file: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                assert self._process is not None
                if self._process.returncode is not None:
                    raise ServerStartError(
                        f"the server exited with {self._process.returncode}:\n" + log_tail(log_file)
                    )
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(f"{self.http_url}/health")
                    if response.status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"no /health within {self.startup_timeout:.0f} s:\n" + log_tail(log_file)
                    )
                await asyncio.sleep(0.2)

    async def stop(self, grace: float = 30.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after ``grace`` s; remove the dir."""
        process, self._process = self._process, None
        if process is not None:
            await terminate(process, grace)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


async def spawn_logged(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_file: Path
) -> asyncio.subprocess.Process:
    """Start ``command`` with its stdout and stderr going to ``log_file``."""
    log = await asyncio.to_thread(log_file.open, "wb")
    try:
        return await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        # The child holds its own descriptor for the log; ours can close.
        log.close()


async def terminate(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM, then SIGKILL if ``process`` has not ended after ``grace`` seconds."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------------ /proc sampling


@dataclass(frozen=True)
class ProcSample:
    """CPU seconds and memory of a process tree at one moment."""

    at: float
    """``time.monotonic()`` of the sample."""
    cpu_seconds: float
    """User + system CPU of every process in the tree since it started."""
    rss_bytes: int
    """Resident memory of the tree now."""
    hwm_bytes: int
    """Sum of each process's own peak resident memory (``VmHWM``)."""
    processes: int


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
    return found


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        stack.extend(_children(current))
    return pids


def _cpu_seconds(pid: int, ticks: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        stat = handle.read()
    # The command name (field 2) may contain spaces and parentheses: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / ticks


def _memory(pid: int) -> tuple[int, int]:
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * _PAGE_KIB
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * _PAGE_KIB
    return rss, hwm


def sample_process(pid: int) -> ProcSample:
    """CPU and memory of ``pid`` and its descendants (processes that vanish are skipped)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = 0.0
    rss = hwm = count = 0
    for member in _tree(pid):
        try:
            cpu += _cpu_seconds(member, ticks)
            member_rss, member_hwm = _memory(member)
        except (OSError, ValueError, IndexError):
            continue
        rss += member_rss
        hwm += member_hwm
        count += 1
    if count == 0:
        raise ProcessLookupError(f"no process {pid}")
    return ProcSample(time.monotonic(), cpu, rss, hwm, count)


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent not idle since boot (``/proc/stat``)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal...; idle and iowait are not busy.
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


class ProcessSampler:
    """Samples a process tree every ``interval`` seconds while a run goes on."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        """Watch ``pid`` (a local process) and its children."""
        self.pid = pid
        self.interval = interval
        self.samples: list[ProcSample] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ProcessSampler:
        """Take the first sample and keep sampling in the background."""
        self.samples.append(sample_process(self.pid))
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *_: object) -> None:
        """Take the last sample and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(ProcessLookupError):
            self.samples.append(sample_process(self.pid))

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.samples.append(sample_process(self.pid))
            except ProcessLookupError:
                return

    def summary(self) -> dict[str, Any]:
        """CPU used over the window, busiest interval, peak and final memory."""
        if len(self.samples) < 2:
            return {"available": False, "reason": "fewer than two /proc samples"}
        first, last = self.samples[0], self.samples[-1]
        wall = last.at - first.at
        cpu = last.cpu_seconds - first.cpu_seconds
        busiest = max(
            (
                (b.cpu_seconds - a.cpu_seconds) / (b.at - a.at)
                for a, b in zip(self.samples, self.samples[1:], strict=False)
                if b.at > a.at
            ),
            default=0.0,
        )
        return {
            "available": True,
            "pid": self.pid,
            "processes": last.processes,
            "cores": os.cpu_count(),
            "wall_seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3),
            "cpu_percent_mean": round(100.0 * cpu / wall, 1) if wall > 0 else 0.0,
            "cpu_percent_max": round(100.0 * busiest, 1),
            "rss_bytes_start": first.rss_bytes,
            "rss_bytes_end": last.rss_bytes,
            "rss_bytes_peak_sampled": max(s.rss_bytes for s in self.samples),
            # The kernel's own high-water mark catches peaks between two samples.
            "peak_rss_bytes": max(last.hwm_bytes, max(s.rss_bytes for s in self.samples)),
            "samples": len(self.samples),
        }
