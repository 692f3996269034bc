"""How many CPU cores this process may use, which sizes the engine pool.

``os.cpu_count()`` counts the machine's cores; a process pinned to some of them
(``taskset``, Kubernetes' static CPU manager) or capped by a cgroup v2 quota (Docker's
``--cpus``, a Kubernetes CPU limit, systemd's ``CPUQuota``) may use fewer, and more
engine threads than that only take turns on the same cores. cgroup v1 quotas are not
read (their hierarchy is gone from current distributions and container runtimes).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Final

MAX_ENGINE_WORKERS: Final = 64
"""Most engine threads one process runs, whatever the machine (the setting's limit)."""

CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
"""Where cgroup v2 is mounted."""
PROC_CGROUP: Final = Path("/proc/self/cgroup")
"""This process's cgroup: ``0::/<path>`` under cgroup v2."""


def usable_cores(cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """Cores this process may run on at once (at least 1): the CPUs it is allowed
    (``os.sched_getaffinity``, else ``os.cpu_count``), lowered to the tightest cgroup v2
    quota (``cpu.max``, rounded up) of its own cgroup and every cgroup above it. Files
    that are missing, unreadable or malformed set no quota."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        allowed = os.cpu_count() or 1
    quotas = [q for q in map(_quota, _cpu_max_files(cgroup_root, proc_cgroup)) if q]
    return max(1, min([allowed, *quotas]))


def _cpu_max_files(cgroup_root: Path, proc_cgroup: Path) -> list[Path]:
    """``cpu.max`` of this process's cgroup and its ancestors, nearest first (the root's
    alone when the cgroup is unknown, as inside a container's own namespace)."""
    relative = ""
    try:
        for line in proc_cgroup.read_text(encoding="ascii").splitlines():
            if line.startswith("0::"):
                relative = line[3:].strip().strip("/")
    except (OSError, UnicodeDecodeError):
        pass
    parts = [p for p in relative.split("/") if p and p != ".."]
    return [cgroup_root.joinpath(*parts[:n], "cpu.max") for n in range(len(parts), -1, -1)]


def _quota(cpu_max: Path) -> int | None:
    """Cores the cgroup v2 quota in ``cpu_max`` grants, rounded up; None without one."""
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, UnicodeDecodeError, ValueError, ZeroDivisionError):
        return None
