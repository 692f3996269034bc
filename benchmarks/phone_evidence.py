"""The phone stage as a third opinion in the assessment benchmarks (``--phones SCORE``).

``PhoneEvidence`` gives, per clip and target, the phone stage's word results
(``PhoneAligner``: one recogniser pass per clip, scored against each target asked for),
cached in a JSON file so reruns at another score are instant. ``PhoneJudge`` wraps a
benchmark's judge: where its assessment still flags a target word, the attempt is
assessed again with ``with_phone_evidence`` at ``assessment.phone_support_score``, as
``TurnProcessor._attempt`` does with ``assessment.phone_support`` on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ustad.assess.score import assess
from ustad.assess.support import needs_support, with_phone_evidence, written_words
from ustad.assess.types import Assessment
from ustad.speech.phones.types import PhoneAlignmentError, PhoneResult, WordPhones
from ustad.speech.types import Audio, Transcript, WordSupport


class PhoneEvidence:
    """Phone-stage word results per (clip, target), cached as [word, phones, status,
    score] rows (the phones as a count: all ``with_phone_evidence`` reads)."""

    def __init__(self, audio: Callable[[str], Audio], cache: Path | None) -> None:
        self.audio = audio
        self.cache_file = cache
        self.cache: dict[str, Any] = {}
        if cache is not None and cache.exists():
            self.cache = json.loads(cache.read_text(encoding="utf-8"))
        self.computed_seconds: list[float] = []
        self._aligner: Any = None
        self._log_probs: tuple[str, Any] | None = None

    def __call__(self, clip: str, target: str) -> tuple[WordPhones, ...]:
        key = f"{clip}\t{target}"
        if key not in self.cache:
            if self._aligner is None:
                from ustad.speech.phones.aligner import PhoneAligner

                self._aligner = PhoneAligner()
            started = time.process_time()
            try:
                if self._log_probs is None or self._log_probs[0] != clip:
                    samples = self.audio(clip).samples
                    self._log_probs = (clip, self._aligner.log_probs(samples))
                found = self._aligner.score(self._log_probs[1], written_words(target))
                self.cache[key] = [[w.word, len(w.phones), w.status, w.score] for w in found]
            except PhoneAlignmentError:
                self.cache[key] = None
            self.computed_seconds.append(time.process_time() - started)
            if len(self.computed_seconds) % 200 == 0:
                self.save()
        rows = self.cache[key]
        if rows is None:
            return ()
        dummy = PhoneResult("AH", 0.0, 0.0, 0.0, 100, "ok")
        return tuple(WordPhones(w, (dummy,) * n, score, status) for w, n, status, score in rows)

    def save(self) -> None:
        """Write the cache back."""
        if self.cache_file is not None:
            self.cache_file.write_text(json.dumps(self.cache), encoding="utf-8")


def phone_judged(
    target: str,
    transcript: Transcript,
    result: Assessment,
    support: Sequence[WordSupport],
    phones: Callable[[], Sequence[WordPhones]],
    min_score: int,
    min_overall: float = 0.0,
    **settings: Any,
) -> Assessment:
    """``result`` assessed again with the phone evidence when it still flags a word and
    scores at least ``min_overall`` (``assessment.phone_support_min_overall``)."""
    if not needs_support(result, min_overall):
        return result
    words = written_words(target)
    merged = with_phone_evidence(words, support, phones(), min_score)
    return assess(target, transcript, support=merged, **settings)
