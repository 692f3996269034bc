"""The peers under test: Wyoming servers started from their own virtualenv.

``scripts/install-peers.sh`` installs wyoming-faster-whisper and wyoming-piper into
``var/peers-venv`` (their pins differ from ustad's, so they never share a venv).
Each server gets a free port on the loopback interface, a temporary data directory,
the Hugging Face hub switched off (every model is a local path here), and is ready
once it answers a Wyoming ``describe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from peers_wyoming import WyomingError, describe

from ustad.bench.server import free_port, log_tail, spawn_logged, terminate

STARTUP_TIMEOUT: Final = 180.0
"""Seconds a peer may take to load its model and answer ``describe``."""
HOST: Final = "127.0.0.1"


class PeerStartError(RuntimeError):
    """A peer is not installed, exited, or did not answer in time."""


@dataclass(frozen=True)
class PeerSpec:
    """How to start one peer: its module and arguments (``{data_dir}`` is filled in)."""

    name: str
    module: str
    args: Sequence[str]

    def command(self, python: Path, port: int, data_dir: Path) -> list[str]:
        """The full command line."""
        filled = [a.replace("{data_dir}", str(data_dir)) for a in self.args]
        return [str(python), "-m", self.module, "--uri", f"tcp://{HOST}:{port}", *filled]


def whisper_peer(
    name: str, model_dir: Path, *, compute_type: str, beam_size: int, cpu_threads: int
) -> PeerSpec:
    """wyoming-faster-whisper on a local CTranslate2 model directory, English only."""
    return PeerSpec(
        name=name,
        module="wyoming_faster_whisper",
        args=(
            "--model",
            str(model_dir),
            "--data-dir",
            "{data_dir}",
            # "auto" would pick another engine for English; the comparison is Whisper.
            "--stt-library",
            "faster-whisper",
            "--language",
            "en",
            "--compute-type",
            compute_type,
            "--beam-size",
            str(beam_size),
            "--cpu-threads",
            str(cpu_threads),
            "--local-files-only",
        ),
    )


def piper_peer(name: str, voice: Path) -> PeerSpec:
    """wyoming-piper speaking with a local ``.onnx`` voice (its ``.onnx.json`` beside it).

    A path is taken as a custom voice and loaded as is; a catalogue name would make
    the peer check (and possibly fetch) files of its own voice list.
    """
    return PeerSpec(
        name=name,
        module="wyoming_piper",
        args=("--voice", str(voice), "--data-dir", "{data_dir}", "--local-files-only"),
    )


class PeerProcess:
    """A peer in a subprocess; use as an async context manager."""

    def __init__(self, spec: PeerSpec, python: Path, *, log_path: Path | None = None) -> None:
        """``python`` is the peers' virtualenv interpreter."""
        self.spec = spec
        self.python = python
        self.log_path = log_path
        self.port = 0
        self.startup_seconds = 0.0
        self.info: dict[str, object] = {}
        self._workdir: Path | None = None
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        """Process id of the peer."""
        if self._process is None:
            raise RuntimeError(f"{self.spec.name} is not running")
        return self._process.pid

    async def __aenter__(self) -> PeerProcess:
        """Start the peer and wait until it answers ``describe``."""
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the peer."""
        await self.stop()

    async def start(self) -> None:
        """Start the server and wait for it."""
        if not self.python.is_file():
            raise PeerStartError(
                f"no peers virtualenv at {self.python.parent.parent}; "
                "run scripts/install-peers.sh (or make bench-peers)"
            )
        self._workdir = Path(tempfile.mkdtemp(prefix=f"ustad-peer-{self.spec.name}-"))
        data_dir = self._workdir / "data"
        data_dir.mkdir()
        self.port = free_port(HOST)
        env = dict(os.environ)
        # Never reach for a model hub: every model is a local path.
        env.update({"HF_HUB_OFFLINE": "1", "HF_HOME": str(self._workdir / "hf")})
        log_file = self.log_path or self._workdir / "peer.log"
        started = time.perf_counter()
        self._process = await spawn_logged(
            self.spec.command(self.python, self.port, data_dir),
            cwd=self._workdir,
            env=env,
            log_file=log_file,
        )
        try:
            await self._wait_ready(log_file)
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started

    async def _wait_ready(self, log_file: Path) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert self._process is not None
            if self._process.returncode is not None:
                raise PeerStartError(
                    f"{self.spec.name} exited with {self._process.returncode}:\n"
                    + log_tail(log_file)
                )
            with contextlib.suppress(OSError, WyomingError, TimeoutError):
                self.info = await asyncio.wait_for(describe(HOST, self.port), 5.0)
                return
            if time.monotonic() > deadline:
                raise PeerStartError(
                    f"{self.spec.name} did not answer within {STARTUP_TIMEOUT:.0f} s:\n"
                    + log_tail(log_file)
                )
            await asyncio.sleep(0.2)

    async def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, SIGKILL after ``grace`` seconds; remove the temporary directory."""
        process, self._process = self._process, None
        if process is not None:
            await terminate(process, grace)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
