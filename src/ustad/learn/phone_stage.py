"""The phone stage within one English attempt: the target's phones aligned at most once.

Two settings ask for it: ``assessment.phone_support`` (a third opinion on words still
flagged after the recogniser's target support) and ``assessment.phones`` (every
assessed attempt carries its phones). When both ask in one turn, the second asks get
the first's result: one recogniser pass per attempt.
"""

from __future__ import annotations

import logging

from ustad.assess.support import written_words
from ustad.runtime.speech_service import SpeechService
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.phones.types import PhoneAlignmentError, WordPhones
from ustad.speech.types import Audio

log = logging.getLogger(__name__)


class AttemptPhones:
    """The phone stage's result for one attempt (``audio`` against ``target``).

    :meth:`result` runs :meth:`PhoneAligner.align` on the engine executor the first
    time it is awaited (counted as ``speech.engine_calls["phones"]``) and returns the
    same result afterwards. Not for concurrent awaits: a turn asks one stage at a time.
    """

    def __init__(
        self, aligner: PhoneAligner, speech: SpeechService, audio: Audio, target: str
    ) -> None:
        """``target``: the sentence as written; its words are those ``assess`` indexes
        (:func:`ustad.assess.support.written_words`), so results line up with it."""
        self.words = written_words(target)
        self._aligner = aligner
        self._speech = speech
        self._audio = audio
        self._asked = False
        self._found: tuple[WordPhones, ...] | None = None

    async def result(self) -> tuple[WordPhones, ...] | None:
        """One :class:`WordPhones` per written word, in order; ``None`` when the audio
        cannot be aligned to them (:class:`PhoneAlignmentError`: empty, too short for
        the phones, too long), which is logged and costs the turn nothing else."""
        if not self._asked:
            self._asked = True
            self._speech.engine_calls["phones"] += 1
            aligner, samples, words = self._aligner, self._audio.samples, self.words
            try:
                self._found = await self._speech.executor.run(lambda: aligner.align(samples, words))
            except PhoneAlignmentError as error:
                log.info("no phones for this attempt: %s", error)
        return self._found
