"""Fluency of one English attempt, from the recogniser's word timings.

100 minus penalties for a speech rate outside :data:`COMFORTABLE_WPM`, pauses longer
than :data:`LONG_PAUSE_SECONDS`, fillers and repetitions (see :func:`fluency`); the
overall score weighs it in (:mod:`ustad.assess.score`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ustad.speech.types import Word

COMFORTABLE_WPM = (60.0, 190.0)
"""Speech rates (words per minute) that get full fluency marks; learners read slowly."""
RATE_PENALTY_MAX = 35.0
"""Fluency points lost at a rate of zero, or at twice the upper comfortable rate."""
MIN_RATE_SPAN_SECONDS = 0.5
"""Shorter speech gives no meaningful rate (a single short word)."""
LONG_PAUSE_SECONDS = 1.0
"""A gap between two words longer than this is a hesitation."""
PAUSE_PENALTY_PER_SECOND = 15.0
"""Fluency points lost per second of pausing beyond :data:`LONG_PAUSE_SECONDS`."""
PAUSE_PENALTY_MAX = 35.0
FILLER_PENALTY = REPETITION_PENALTY = 8.0
HESITATION_PENALTY_MAX = 30.0
"""Cap on what fillers and repetitions together cost."""


@dataclass(frozen=True)
class Fluency:
    """Fluency score and the measurements behind it."""

    score: float
    speech_rate_wpm: float | None
    longest_pause_seconds: float | None
    fillers: int
    repetitions: int


def fluency(
    words: Sequence[Word], spoken_tokens: int, fillers: int, repetitions: int, *, timed: bool
) -> Fluency:
    """Score fluency from word timings and hesitations.

    ``words`` are the transcript words (fillers included, for pauses); ``spoken_tokens``
    counts the words said (numbers read out, fillers excluded) for the speech rate.
    """
    if spoken_tokens == 0:
        return Fluency(0.0, None, None, fillers, repetitions)
    rate: float | None = None
    longest: float | None = None
    penalty = 0.0
    if timed and words:
        ordered = sorted(words, key=lambda w: w.start)
        span = ordered[-1].end - ordered[0].start
        if span >= MIN_RATE_SPAN_SECONDS:
            rate = spoken_tokens / span * 60.0
            slow, fast = COMFORTABLE_WPM
            if rate < slow:
                penalty += RATE_PENALTY_MAX * (slow - rate) / slow
            elif rate > fast:
                penalty += RATE_PENALTY_MAX * min(1.0, (rate - fast) / fast)
        gaps = [max(0.0, b.start - a.end) for a, b in itertools.pairwise(ordered)]
        longest = max(gaps, default=0.0)
        excess = sum(max(0.0, gap - LONG_PAUSE_SECONDS) for gap in gaps)
        penalty += min(PAUSE_PENALTY_MAX, PAUSE_PENALTY_PER_SECOND * excess)
    penalty += min(
        HESITATION_PENALTY_MAX, FILLER_PENALTY * fillers + REPETITION_PENALTY * repetitions
    )
    return Fluency(max(0.0, 100.0 - penalty), rate, longest, fillers, repetitions)
