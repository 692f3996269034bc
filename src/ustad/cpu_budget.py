"""How many CPU cores this process may use, which sizes the engine pool.

``os.cpu_count()`` counts the machine's cores; a process pinned to some of them
(``taskset``, Kubernetes' static CPU manager) or capped by a cgroup quota (Docker's
``--cpus``, a Kubernetes CPU limit) may use fewer, and more engine threads than that
only take turns on the same cores.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""cgroup v2's CPU quota: ``"<quota> <period>"`` in microseconds, or ``"max <period>"``."""


def usable_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """Cores this process may run on at once (at least 1): the CPUs it is allowed
    (``os.sched_getaffinity``, else ``os.cpu_count``), lowered to the cgroup v2 quota
    rounded up when ``cpu_max`` sets one (an unreadable or malformed file is no quota)."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        allowed = os.cpu_count() or 1
    return max(1, min(allowed, _quota(cpu_max) or allowed))


def _quota(cpu_max: Path) -> int | None:
    """Cores the cgroup v2 quota in ``cpu_max`` grants, rounded up; None without one."""
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None
