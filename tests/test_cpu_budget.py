"""Cores the process may use: affinity, lowered by cgroup v2 quotas."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ustad.cpu_budget import MAX_ENGINE_WORKERS, usable_cores
from ustad.settings import Settings


def allowed() -> int:
    return len(os.sched_getaffinity(0))


def cgroups(tmp_path: Path, own: str, quotas: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 tree under ``tmp_path`` with ``cpu.max`` files at the given relative
    paths ("" is the root), and a /proc/self/cgroup naming ``own``."""
    root = tmp_path / "cgroup"
    for relative, content in quotas.items():
        folder = root / relative
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cpu.max").write_text(content, encoding="ascii")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::/{own}\n", encoding="ascii")
    return root, proc


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
def test_a_quota_lowers_the_cores(tmp_path: Path, content: str, expected: int | None) -> None:
    root, proc = cgroups(tmp_path, "", {"": content})
    assert usable_cores(root, proc) == (allowed() if expected is None else min(expected, allowed()))


def test_the_tightest_quota_of_the_own_cgroup_and_its_parents_counts(tmp_path: Path) -> None:
    root, proc = cgroups(
        tmp_path,
        "system.slice/ustad.service",
        {"": "max 100000", "system.slice": "100000 100000", "system.slice/ustad.service": "max"},
    )
    assert usable_cores(root, proc) == 1  # the slice's quota holds the service too


def test_nothing_readable_means_the_allowed_cpus(tmp_path: Path) -> None:
    assert usable_cores(tmp_path / "none", tmp_path / "missing") == allowed()
    root, proc = cgroups(tmp_path, "../../etc", {})  # a path that climbs is not followed
    assert usable_cores(root, proc) == allowed()


def test_the_engine_pool_is_sized_from_the_machine_unless_set() -> None:
    assert Settings().runtime.engine_workers == min(MAX_ENGINE_WORKERS, usable_cores())
    pinned = Settings.model_validate({"runtime": {"executor_workers": 5}})
    assert pinned.runtime.engine_workers == 5


def test_a_machine_with_more_cores_than_threads_allowed_is_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ustad.runtime_settings

    monkeypatch.setattr(ustad.runtime_settings, "usable_cores", lambda: 128)
    assert Settings().runtime.engine_workers == MAX_ENGINE_WORKERS
