"""In-process service counters (turns, stage time, sessions)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class ServiceMetrics:
    """Counters kept for ``/health`` and the logs; one instance per app."""

    sessions_active: int = 0
    turns: Counter[str] = field(default_factory=Counter)
    """Turns answered, by reply step."""
    stage_ms_total: dict[str, float] = field(default_factory=dict)
    """Milliseconds spent per stage over all turns."""

    def observe_turn(self, step: str, timings: Mapping[str, float]) -> None:
        """Count one answered utterance and its stage timings."""
        self.turns[step] += 1
        for stage, ms in timings.items():
            self.stage_ms_total[stage] = self.stage_ms_total.get(stage, 0.0) + ms
