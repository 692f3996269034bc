"""Fixtures of the bench tests: the real clip pools, and the fake-engine server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import fake_app
from ustad.bench.workload import Clip, learner_pool, real_urdu_clips

__all__ = ["fake_app"]


@pytest.fixture(scope="session")
def real_urdu(shared_data: Path) -> list[Clip]:
    return real_urdu_clips(shared_data)


@pytest.fixture(scope="session")
def learner_clips_pool(shared_data: Path) -> list[Clip]:
    return learner_pool(shared_data)
