"""``ustad serve --workers N``: the worker processes split the cores between them."""

from __future__ import annotations

import os
from typing import Any

import pytest
import uvicorn

from ustad import cli
from ustad.cpu_budget import usable_cores
from ustad.settings import Settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``uvicorn.run`` was called with (nothing is served), and the engine pool
    each worker process would build from the environment it inherits."""
    seen: dict[str, Any] = {}

    def run(app: str, **options: Any) -> None:
        seen.update(options, engine_workers=Settings().runtime.engine_workers)

    monkeypatch.setattr(uvicorn, "run", run)
    # Set first so that monkeypatch puts back what was there (the CLI sets it itself).
    monkeypatch.setenv("USTAD_RUNTIME__EXECUTOR_WORKERS", "0")
    monkeypatch.delenv("USTAD_RUNTIME__EXECUTOR_WORKERS")
    return seen


def test_several_workers_share_the_cores(started: dict[str, Any]) -> None:
    assert cli._serve(Settings(), "127.0.0.1", 8999, workers=2) == 0
    assert started["workers"] == 2
    assert started["engine_workers"] == max(1, usable_cores() // 2)


def test_one_worker_takes_every_core(started: dict[str, Any]) -> None:
    cli._serve(Settings(), "127.0.0.1", 8999, workers=1)
    assert "USTAD_RUNTIME__EXECUTOR_WORKERS" not in os.environ
    assert started["engine_workers"] == usable_cores()


def test_a_pool_size_set_is_kept(started: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USTAD_RUNTIME__EXECUTOR_WORKERS", "3")
    cli._serve(Settings(), "127.0.0.1", 8999, workers=4)
    assert started["engine_workers"] == 3
