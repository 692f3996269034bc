"""Values and Protocols shared by the speech engines.

Engines are plain blocking objects: the runtime runs them in the bounded
executor, so they never know about the event loop or WebSockets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ustad.vocabulary import LanguageGuess

SAMPLE_RATE = 16_000
"""Rate of every decoded utterance handed to the recognisers."""

Language = Literal["en", "ur"]
Task = Literal["transcribe", "translate"]


@dataclass(frozen=True)
class Audio:
    """A decoded utterance: mono float32 samples in [-1, 1] at ``sample_rate`` (Hz;
    16 kHz, what the recognisers take, unless decoded for listening)."""

    samples: npt.NDArray[np.float32]
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return float(len(self.samples)) / self.sample_rate


@dataclass(frozen=True)
class Word:
    """One recognised word with its timing (seconds) and confidence (0-1)."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class TranscriptSegment:
    """One segment as the recogniser decoded it (Whisper's own segments).

    ``start`` and ``end`` are seconds from the clip's start; ``avg_logprob`` is the mean
    token log-prob, ``compression_ratio`` the text's gzip ratio, ``no_speech_prob`` the
    probability (0-1) that the window held no speech, ``temperature`` the one the
    decode that was kept ran at, and ``tokens`` its token ids (empty when the engine
    does not say).
    """

    text: str
    """The segment's text, without outer whitespace."""
    start: float
    end: float
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    temperature: float = 0.0
    tokens: tuple[int, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard."""

    text: str
    language: str
    language_probability: float
    duration: float
    words: tuple[Word, ...] = ()
    no_speech_probability: float = 0.0
    avg_logprob: float = 0.0
    segments: tuple[TranscriptSegment, ...] = ()
    """The recogniser's own segments, in order, when it gives them (repetition loops
    left out, as from the text); empty for an engine that gives only text and words."""


@dataclass(frozen=True)
class WordSupport:
    """How well an utterance's audio supports one written word of a given text.

    ``probability`` (0-1) is the recogniser's teacher-forced probability of the word:
    the mean probability of its tokens when the recogniser is made to read the whole
    text against the audio (Whisper: the same alignment pass its word timestamps use).
    It is high when the audio sounds like the word in that context, whatever the
    recogniser wrote itself; being conditioned on the words before it, it also carries
    the language model's expectation of the word there.
    """

    word: str
    """The word as written in the text (split on whitespace)."""
    probability: float
    prompted: bool = False
    """Whether the recogniser, given the whole text as its prompt (the context Whisper
    reads as the words said before the clip), wrote this word in its place: a second,
    free decoding that the prompt leans towards the text but that still writes another
    word where the audio clearly says one."""


PromptedWanted = Callable[[tuple[WordSupport, ...]], bool]
"""Given a target's forced reading (``prompted`` all ``False``), whether a decoding
prompted with the target could still change what is made of it
(``ustad.assess.support.prompted_matters``)."""


class Transcriber(Protocol):
    """Speech to text (blocking)."""

    name: str

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str | None = None,
        task: Task = "transcribe",
        word_timestamps: bool = False,
        quick: bool = False,
    ) -> Transcript:
        """Transcribe (or, with ``task="translate"``, translate to English) one utterance.

        With ``language=None`` the language is detected first and reported in the
        transcript. ``quick``: the engine's cheapest first reading, without the second
        decodes it would make of a doubtful one; for a vote on how confident the reading
        is, not for its text (an engine with no cheaper reading ignores it).
        """
        ...

    def target_support(
        self, audio: Audio, text: str, *, prompted: PromptedWanted | None = None
    ) -> tuple[WordSupport, ...]:
        """How well ``audio`` supports each whitespace-separated word of ``text``, in
        order (one :class:`WordSupport` per word), by forcing the recogniser to read
        ``text`` (English): one alignment pass. An engine that can also decode the clip
        prompted with ``text`` sets ``WordSupport.prompted``; given ``prompted``, it asks
        it with the forced reading first and decodes only when it answers ``True``.
        Raises ``ValueError`` for audio that is not 16 kHz mono."""
        ...

    def detect_language(
        self, audio: Audio, *, short_window: bool = False, english_attempt: bool = False
    ) -> LanguageGuess:
        """The spoken language: the most likely one, its probability, and the
        probabilities of the languages the engine scored.

        ``short_window`` asks for the quicker, less certain look an engine may offer
        (Whisper: the short-clip window); engines without one look as usual.
        ``english_attempt``: the learner was asked for English, so the look may share
        the window (and the encoding) of the attempt's English readings.
        """
        ...


@runtime_checkable
class SegmentStreamer(Protocol):
    """A recogniser that can give its segments as it decodes them (blocking)."""

    def stream_segments(
        self, audio: Audio, *, language: str | None = None, task: Task = "transcribe"
    ) -> Iterator[TranscriptSegment]:
        """The segments of ``audio`` in order, each as soon as it is decoded; closing the
        iterator stops the decoding. ``ValueError`` (from the call, before any segment)
        for audio or a request the engine cannot take, as ``Transcriber.transcribe``."""
        ...


@dataclass(frozen=True)
class Pcm:
    """Synthesised audio: mono int16 samples."""

    samples: npt.NDArray[np.int16]
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return float(len(self.samples)) / self.sample_rate

    @property
    def nbytes(self) -> int:
        """Memory held by the samples."""
        return int(self.samples.nbytes)


class Synthesizer(Protocol):
    """Text to speech in one voice (blocking)."""

    engine: str
    """Engine id, part of every cache key (e.g. ``piper``, ``espeak-ng``)."""
    voice: str
    """Voice id, part of every cache key."""
    language: Language

    def synthesize(self, text: str, *, speed: float = 1.0) -> Pcm:
        """Speak ``text``; ``speed`` > 1 is faster."""
        ...


@dataclass(frozen=True)
class Segment:
    """A run of a reply spoken in one language's voice."""

    language: Language
    text: str


@dataclass(frozen=True)
class SpokenText:
    """A reply as shown (``text``) and as spoken (``segments``, each in its own voice)."""

    text: str
    segments: tuple[Segment, ...]

    @staticmethod
    def single(language: Language, text: str) -> SpokenText:
        """A reply spoken wholly in one language."""
        return SpokenText(text=text, segments=(Segment(language, text),))


@dataclass(frozen=True)
class TranslationRequest:
    """Urdu to English (or another pair) for one utterance."""

    text: str
    source: str = "ur"
    target: str = "en"
    audio: Audio | None = field(default=None, compare=False, hash=False)
    """The utterance itself, for providers that translate speech directly."""


@dataclass(frozen=True)
class Translation:
    """A translation and where it came from."""

    text: str
    provider: str
    """``memory``, ``whisper``, or a remote provider's name."""
    score: float = 100.0
    """Match score (0-100) for the translation memory; 100 otherwise."""
    source_text: str | None = None
    """The source as the provider understood it (the phrase-bank Urdu for a memory hit)."""
    entry_id: str | None = None
    """Phrase-bank id for a memory hit."""
    confidence: float | None = None
    """How sure the provider is of ``text``, 0-1; ``None`` when it does not say.

    The translation memory gives its match score over 100; a speech translation the
    geometric mean of its token probabilities (``exp`` of the decode's mean token
    log-prob, ``target_guard.confidence_of``)."""


class Translator(Protocol):
    """Translation provider. Async so that a remote MT service fits behind it."""

    name: str

    async def translate(self, request: TranslationRequest) -> Translation | None:
        """Translate, or ``None`` when this provider has no good answer."""
        ...


class ScriptNormalizer(Protocol):
    """Writes a transcript in clean Urdu script (the phrase-bank form when it knows it)."""

    async def to_urdu_script(self, text: str) -> str:
        """Urdu script for a Whisper transcript."""
        ...
