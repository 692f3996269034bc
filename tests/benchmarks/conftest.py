"""The benchmark scripts live in ``benchmarks/`` and import each other as top-level
modules (they run as ``python benchmarks/<name>.py``); make them importable here."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
