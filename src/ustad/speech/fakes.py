"""Fake engines for unit tests of the code around the engines.

They satisfy the same Protocols as the real ones and answer instantly with
scripted results; they are never used by the service itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from ustad.speech.types import (
    Audio,
    Language,
    Pcm,
    PromptedWanted,
    Task,
    Transcript,
    TranscriptSegment,
    Translation,
    TranslationRequest,
    Word,
    WordSupport,
)
from ustad.vocabulary import LanguageGuess


def transcript_of(
    text: str, *, language: str = "en", duration: float = 2.0, probability: float = 0.95
) -> Transcript:
    """A transcript whose words are evenly spread over ``duration``."""
    tokens = text.split()
    step = duration / max(len(tokens), 1)
    words = tuple(
        Word(token, i * step, (i + 0.8) * step, probability) for i, token in enumerate(tokens)
    )
    return Transcript(
        text=text, language=language, language_probability=1.0, duration=duration, words=words
    )


@dataclass
class FakeTranscriber:
    """Answers with ``respond(audio, language, task)``; records its calls."""

    respond: Callable[[Audio, str | None, Task], Transcript]
    language: tuple[str, float] = ("ur", 0.9)
    name: str = "fake-stt"
    calls: list[tuple[str | None, Task]] = field(default_factory=list)
    support: Callable[[str], float] = lambda word: 0.0
    """The forced probability of each word of a ``target_support`` text (default 0)."""
    supported: list[str] = field(default_factory=list)
    """The texts ``target_support`` was asked about."""
    prompted_decodes: list[bool] = field(default_factory=list)
    """Whether each ``target_support`` call made the prompted reading."""
    quick_calls: int = 0
    """``transcribe`` calls asked for the ``quick`` reading."""
    prompted: Callable[[str], bool] = lambda word: False
    """Whether the prompted decoding wrote each word of a ``target_support`` text."""

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
        quick: bool = False,
    ) -> Transcript:
        """The scripted transcript (``quick`` calls are also listed in ``quick_calls``)."""
        self.calls.append((language, task))
        if quick:
            self.quick_calls += 1
        return self.respond(audio, language, task)

    def stream_segments(
        self, audio: Audio, *, language: str | None = None, task: Task = "transcribe"
    ) -> Iterator[TranscriptSegment]:
        """The scripted transcript's segments (one of its whole text when it has none),
        after recording the call."""
        self.calls.append((language, task))
        transcript = self.respond(audio, language, task)
        text = transcript.text.strip()
        whole = (TranscriptSegment(text, 0.0, transcript.duration),) if text else ()
        return iter(transcript.segments or whole)

    def target_support(
        self, audio: Audio, text: str, *, prompted: PromptedWanted | None = None
    ) -> tuple[WordSupport, ...]:
        """``support(word)`` and ``prompted(word)`` for each whitespace word of ``text``
        (``prompted`` only when the ``prompted`` callback, if given, wants it); records
        the text, and in ``prompted_decodes`` whether the prompted reading was made."""
        self.supported.append(text)
        forced = tuple(WordSupport(word, self.support(word)) for word in text.split())
        wanted = prompted is None or prompted(forced)
        self.prompted_decodes.append(wanted)
        if not wanted:
            return forced
        return tuple(replace(w, prompted=self.prompted(w.word)) for w in forced)

    def detect_language(
        self, audio: Audio, *, short_window: bool = False, english_attempt: bool = False
    ) -> LanguageGuess:
        """The scripted language (the only one in the distribution)."""
        lang, prob = self.language
        return LanguageGuess(lang, prob, {lang: prob})


@dataclass
class FakeSynthesizer:
    """A quiet tone whose length grows with the text; records what it said."""

    language: Language = "en"
    engine: str = "fake-tts"
    voice: str = "fake"
    sample_rate: int = 22_050
    said: list[str] = field(default_factory=list)

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        """0.05 s per character at speed 1."""
        if not text.strip():
            raise ValueError("nothing to say")
        self.said.append(text)
        count = max(1, int(self.sample_rate * 0.05 * len(text) / speed))
        tone = np.sin(np.arange(count) * 2 * np.pi * 220 / self.sample_rate) * 3000
        return Pcm(tone.astype(np.int16), self.sample_rate)


@dataclass
class FakeTranslator:
    """Looks the text up in a dict."""

    table: dict[str, str]
    name: str = "fake-mt"

    async def translate(self, request: TranslationRequest) -> Translation | None:
        """The table's entry, or ``None``."""
        english = self.table.get(request.text.strip())
        return None if english is None else Translation(english, self.name)

    async def to_urdu_script(self, text: str) -> str:
        """The text unchanged."""
        return text.strip()
