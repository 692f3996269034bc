"""Urdu speech to English text with Whisper's own ``translate`` task.

The fallback translator when the phrase bank has no good match: it listens to the
utterance itself rather than a possibly garbled Urdu transcript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ustad.speech.types import Transcriber, Transcript, Translation, TranslationRequest

T = TypeVar("T")

RunBlocking = Callable[[Callable[[], T]], Awaitable[T]]
"""Runs a blocking call off the event loop (the runtime's bounded executor)."""

_SENTENCE_END = ".!?"


class WhisperSpeechTranslator:
    """``Translator`` that asks a multilingual Whisper model to translate the audio."""

    name = "whisper"

    def __init__(
        self,
        transcriber: Transcriber,
        run_blocking: RunBlocking[Transcript],
    ) -> None:
        self._transcriber = transcriber
        self._run_blocking = run_blocking

    async def translate(self, request: TranslationRequest) -> Translation | None:
        """English for the request's audio; ``None`` without audio or if Whisper hears nothing."""
        audio = request.audio
        if audio is None or request.target != "en":
            return None
        source = request.source or None

        def call() -> Transcript:
            return self._transcriber.transcribe(audio, language=source, task="translate")

        transcript = await self._run_blocking(call)
        text = clean_sentence(transcript.text)
        if not text:
            return None
        return Translation(text=text, provider=self.name)


def clean_sentence(text: str) -> str:
    """One tidy sentence: collapsed spaces, capital first letter, closing punctuation."""
    text = " ".join(text.split()).strip(" \"'")
    if not any(ch.isalnum() for ch in text):
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] not in _SENTENCE_END:
        text = text.rstrip(",;:- ") + "."
    return text
