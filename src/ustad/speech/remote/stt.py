"""Speech recognition by a remote OpenAI-compatible ``/audio/transcriptions``.

The utterance is sent as 16 kHz 16-bit WAV with ``response_format=verbose_json``
(segments, and words when timings are asked for). The answer passes the checks a local
Whisper decode passes where they apply (``ustad.speech.whisper.checks``): segments that
are repetition loops (by gzip ratio or by their words) are dropped, and a transcript
that still loops, uses up Whisper's token budget for the clip or has more words than
anyone says in its length is refused. A refused or failed call is ``None``: the local
recogniser answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ustad.speech.audio import encode_audio
from ustad.speech.remote.provider import Answer, RemoteError, RemoteProvider, RunBlocking
from ustad.speech.types import Audio, Pcm, Transcript, Word
from ustad.speech.whisper.checks import (
    MAX_WORDS_PER_SECOND,
    SHORT_WINDOW_WORDS,
    has_repetition_loop,
    kept_segments,
    no_speech_probability,
    plain_words,
    token_budget,
    weighted_avg_logprob,
)
from ustad.speech.whisper.transcript import segments_of, text_of

TIME_SLACK_SECONDS: Final = 1.0
"""How far past the clip's end a segment or word may be said to end (rounding, padding)."""
WORD_MARGIN: Final = 3
"""Timed words may differ in number from the text's words by this many, or by a quarter of
the text's words if that is more (servers split contractions and numbers differently)."""

LANGUAGE_NAMES: Final = {"english": "en", "urdu": "ur", "hindi": "hi", "punjabi": "pa"}
"""OpenAI's ``verbose_json`` names the language in English; ustad uses ISO 639-1 codes."""


class _Lenient(BaseModel):
    # NaN and infinities are not numbers a transcript can hold (nor JSON can send back).
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class RemoteSegment(_Lenient):
    """A ``verbose_json`` segment: the fields faster-whisper's ``Segment`` has too, so the
    local checks read it as they read a local decode."""

    text: str
    start: float = 0.0
    end: float = 0.0
    tokens: list[int] = []
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0
    no_speech_prob: float = Field(default=0.0, ge=0.0, le=1.0)


class RemoteWord(_Lenient):
    """A ``verbose_json`` word (``probability`` is ustad's addition; 1.0 when absent)."""

    word: str
    start: float
    end: float
    probability: float = 1.0


class VerboseTranscription(_Lenient):
    """OpenAI's ``verbose_json`` transcription (``json``'s lone ``text`` parses too)."""

    text: str
    language: str | None = None
    segments: list[RemoteSegment] | None = None
    words: list[RemoteWord] | None = None


def parse_transcription(answer: Answer, *, seconds: float) -> VerboseTranscription:
    """The answer as a transcription of a ``seconds`` long clip.

    ``RemoteError("malformed")`` when it is not one: not JSON (or nested past the JSON
    parser's depth limit), a number that is not finite, a segment or word time outside
    ``[0, seconds + TIME_SLACK_SECONDS]``, or timed words that disagree with the text
    (``words_agree``).
    """
    try:
        reply = VerboseTranscription.model_validate_json(answer.content)
    except ValueError as error:
        raise RemoteError("malformed", f"not a transcription: {str(error)[:200]}") from error
    latest = seconds + TIME_SLACK_SECONDS
    spans = [(s.start, s.end) for s in reply.segments or ()]
    spans += [(w.start, w.end) for w in reply.words or ()]
    if any(not (0.0 <= t <= latest) for span in spans for t in span):
        raise RemoteError("malformed", f"a time outside the clip's {seconds:.1f} s")
    fault = words_agree(reply, seconds)
    if fault is not None:
        raise RemoteError("malformed", fault)
    return reply


def transcription_parser(seconds: float) -> Callable[[Answer], VerboseTranscription]:
    """``parse_transcription`` for a clip of ``seconds``."""
    return lambda answer: parse_transcription(answer, seconds=seconds)


def words_agree(reply: VerboseTranscription, seconds: float) -> str | None:
    """Why the reply's timed words cannot be the words of its text, or ``None``.

    At most as many as anyone says in ``seconds`` (``MAX_WORDS_PER_SECOND`` plus
    ``SHORT_WINDOW_WORDS``), and as many as the text's words within ``WORD_MARGIN``.
    """
    if not reply.words:
        return None
    timed = sum(1 for w in reply.words if plain_words(w.word))
    limit = SHORT_WINDOW_WORDS + MAX_WORDS_PER_SECOND * seconds
    if len(reply.words) > limit:
        return f"{len(reply.words)} timed words in {seconds:.1f} s"
    said = len(plain_words(reply.text))
    if abs(timed - said) > max(WORD_MARGIN, said // 4):
        return f"{timed} timed words for a text of {said}"
    return None


def wav_of(audio: Audio) -> bytes:
    """``audio`` as 16-bit PCM WAV at its own rate (what every server accepts)."""
    samples = np.clip(audio.samples * 32767.0, -32768, 32767).astype(np.int16)
    return encode_audio(Pcm(samples, audio.sample_rate), "wav")


class RemoteTranscriber:
    """Transcribes on ``provider`` (blocking work through ``run_blocking``)."""

    def __init__(self, provider: RemoteProvider, run_blocking: RunBlocking) -> None:
        self.provider = provider
        self._run_blocking = run_blocking

    @property
    def name(self) -> str:
        """``remote:<model>``."""
        return f"remote:{self.provider.model}"

    async def transcribe(
        self, audio: Audio, *, language: str | None = None, word_timestamps: bool = False
    ) -> Transcript | None:
        """What ``audio`` says, or ``None`` when the provider failed or its answer was
        refused (then the local recogniser is to answer; counted as a fallback)."""
        try:
            wav = await self._run_blocking(lambda: wav_of(audio))
            form: dict[str, Any] = {
                "model": self.provider.model,
                "response_format": "verbose_json",
                "timestamp_granularities[]": ["segment", "word"] if word_timestamps else "segment",
            }
            if language:
                form["language"] = language
            reply = await self.provider.post(
                "audio/transcriptions",
                transcription_parser(audio.duration),
                data=form,
                files={"file": ("utterance.wav", wav, "audio/wav")},
            )
        except RemoteError:
            self.provider.fell_back()
            return None
        try:
            transcript, fault = checked_transcript(reply, audio, language, word_timestamps)
        except (ValueError, ArithmeticError) as error:  # nothing a provider sends is a 500
            transcript, fault = None, str(error)[:200]
        if transcript is None:
            self.provider.rejected(f"transcript: {fault}")
            self.provider.fell_back()
        return transcript


def checked_transcript(
    reply: VerboseTranscription, audio: Audio, language: str | None, word_timestamps: bool
) -> tuple[Transcript | None, str | None]:
    """The reply as a ``Transcript`` after the local decode's checks, or ``None`` and why.

    Loop segments are left out (``kept_segments``); refused: text that still loops, a
    decode at Whisper's token budget for the clip, more than ``MAX_WORDS_PER_SECOND`` a
    second (plus ``SHORT_WINDOW_WORDS``), or no word timings when they were asked for.
    """
    duration = audio.duration
    segments: Sequence[RemoteSegment] = reply.segments or ()
    text = reply.text.strip()
    if segments:
        kept = kept_segments(segments)
        if len(kept) < len(segments):
            return None, "repetition loop"
        text = text_of(kept)
        if sum(len(s.tokens) for s in segments) >= token_budget(duration):
            return None, "token budget"
    words = plain_words(text)
    if has_repetition_loop(words):
        return None, "repetition loop"
    if len(words) > SHORT_WINDOW_WORDS + MAX_WORDS_PER_SECOND * duration:
        return None, f"{len(words)} words in {duration:.1f} s"
    timed = tuple(
        Word(w.word.strip(), w.start, w.end, min(1.0, max(0.0, w.probability)))
        for w in reply.words or ()
        if w.word.strip()
    )
    if word_timestamps and words and not timed:
        return None, "no word timings"
    answered = (reply.language or "").strip().lower()
    code = LANGUAGE_NAMES.get(answered, answered if len(answered) in (2, 3) else None)
    transcript = Transcript(
        text=text,
        language=language or code or "",
        # Not reported by the API: sure when the language was given, unknown otherwise.
        language_probability=1.0 if language else 0.0,
        duration=duration,
        words=timed if word_timestamps else (),
        no_speech_probability=no_speech_probability(segments) if segments else 0.0,
        avg_logprob=weighted_avg_logprob(segments),
        # The provider's own segments (loops already refused); none from a provider
        # that answers only text and words: the API rebuilds them from the words.
        segments=segments_of(segments),
    )
    return transcript, None
