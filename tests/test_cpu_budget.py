"""Cores the process may use: affinity, lowered by a cgroup v2 quota."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ustad.cpu_budget import usable_cores
from ustad.settings import Settings


def allowed() -> int:
    return len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("max 100000\n", None),  # no quota
        ("50000 100000\n", 1),  # half a core still runs one thread
        ("150000 100000\n", 2),  # rounded up
        ("100000 100000\n", 1),
        ("nonsense\n", None),
        ("100000 0\n", None),
    ],
)
def test_a_cgroup_quota_lowers_the_cores(
    tmp_path: Path, content: str, expected: int | None
) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(content, encoding="ascii")
    assert usable_cores(cpu_max) == (allowed() if expected is None else min(expected, allowed()))


def test_no_quota_file_means_the_allowed_cpus(tmp_path: Path) -> None:
    assert usable_cores(tmp_path / "missing") == allowed()


def test_the_engine_pool_is_sized_from_the_machine_unless_set() -> None:
    assert Settings().runtime.engine_workers == usable_cores()
    pinned = Settings.model_validate({"runtime": {"executor_workers": 5}})
    assert pinned.runtime.engine_workers == 5
