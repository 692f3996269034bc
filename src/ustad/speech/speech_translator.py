"""Urdu speech to English text with Whisper's own ``translate`` task, guarded.

The fallback translator when the phrase bank has no good match: it listens to the
utterance itself rather than a possibly garbled Urdu transcript. What it returns
becomes the sentence a learner practises, so a decode is only taken when it passes
``TargetGuard`` (no loop, no repeated phrase, a sane length for the clip, not cut
off, a log-prob the model stands behind). A doubtful first decode is decoded again
another way (``retry``, e.g. ``whisper.beam_translation.BeamTranslation``) and the
surer of the decodes that pass wins; when none passes there is no translation, and
the learner is asked to say it again rather than taught a broken sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ustad.settings import TranslationSettings
from ustad.speech.target_guard import TargetGuard, confidence_of, english_lexicon
from ustad.speech.types import Audio, Transcriber, Transcript, Translation, TranslationRequest
from ustad.speech.whisper.beam_translation import BeamTranslation
from ustad.speech.whisper.transcriber import WhisperTranscriber

log = logging.getLogger(__name__)

T = TypeVar("T")

RunBlocking = Callable[[Callable[[], T]], Awaitable[T]]
"""Runs a blocking call off the event loop (the runtime's bounded executor)."""

Decode = Callable[[Audio, str | None], Transcript]
"""A blocking speech translation of ``(audio, source language or None)`` into English."""

_SENTENCE_END = ".!?"


class WhisperSpeechTranslator:
    """``Translator`` that asks a multilingual Whisper model to translate the audio.

    ``retry`` decodes again when the first decode fails the ``guard`` or its mean token
    log-prob is below ``retry_below`` (``None``: no second decode). The translation's
    ``confidence`` is ``exp`` of the chosen decode's mean token log-prob.
    """

    name = "whisper"

    def __init__(
        self,
        transcriber: Transcriber,
        run_blocking: RunBlocking[Transcript],
        *,
        guard: TargetGuard | None = None,
        retry: Decode | None = None,
        retry_below: float = -1.0,
    ) -> None:
        self._transcriber = transcriber
        self._run_blocking = run_blocking
        self.guard = guard or TargetGuard()
        self._retry = retry
        self._retry_below = retry_below

    @classmethod
    def from_settings(
        cls,
        transcriber: WhisperTranscriber,
        run_blocking: RunBlocking[Transcript],
        settings: TranslationSettings,
    ) -> WhisperSpeechTranslator:
        """The translator the ``translation`` settings describe, its second decode a
        ``BeamTranslation`` of the same model (none with ``retry_beam_size`` 0)."""
        guard = TargetGuard(
            min_logprob=settings.target_min_logprob,
            max_words_per_second=settings.target_max_words_per_second,
            min_words_per_second=settings.target_min_words_per_second,
            lexicon=english_lexicon(),
            max_unknown_share=settings.target_max_unknown_share,
        )
        retry = None
        if settings.retry_beam_size:
            retry = BeamTranslation(
                transcriber,
                beam_size=settings.retry_beam_size,
                repetition_penalty=settings.retry_repetition_penalty,
                no_repeat_ngram_size=settings.retry_no_repeat_ngram_size,
            )
        return cls(
            transcriber,
            run_blocking,
            guard=guard,
            retry=retry,
            retry_below=settings.retry_below_logprob,
        )

    async def translate(self, request: TranslationRequest) -> Translation | None:
        """English for the request's audio; ``None`` without audio, when Whisper hears
        nothing, or when no decode passes the guard."""
        audio = request.audio
        if audio is None or request.target != "en":
            return None
        source = request.source or None
        transcriber = self._transcriber

        def first() -> Transcript:
            return transcriber.transcribe(audio, language=source, task="translate")

        decodes = [await self._run_blocking(first)]
        faults = [self._fault(decodes[0], audio)]
        retry = self._retry
        if retry is not None and (faults[0] is not None or self._doubtful(decodes[0])):
            decodes.append(await self._run_blocking(lambda: retry(audio, source)))
            faults.append(self._fault(decodes[1], audio))
        passed = [d for d, fault in zip(decodes, faults, strict=True) if fault is None]
        if not passed:
            log.info(
                "no target from speech translation: %s",
                "; ".join(f"{f}: {d.text[:120]!r}" for d, f in zip(decodes, faults, strict=True)),
            )
            return None
        best = max(passed, key=lambda d: d.avg_logprob)
        return Translation(
            text=clean_sentence(best.text),
            provider=self.name,
            confidence=confidence_of(best.avg_logprob),
        )

    def _fault(self, decoded: Transcript, audio: Audio) -> str | None:
        return self.guard.fault(
            decoded.text, seconds=audio.duration, avg_logprob=decoded.avg_logprob
        )

    def _doubtful(self, decoded: Transcript) -> bool:
        return decoded.avg_logprob < self._retry_below


def clean_sentence(text: str) -> str:
    """One tidy sentence: collapsed spaces, capital first letter, closing punctuation."""
    text = " ".join(text.split()).strip(" \"'")
    if not any(ch.isalnum() for ch in text):
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] not in _SENTENCE_END:
        text = text.rstrip(",;:- ") + "."
    return text
