"""Carrying out one utterance: from bytes to the event the state machine needs.

The tutoring rules that need engines live here (which language was spoken,
whether a failed repeat was really a new Urdu sentence); the engines are behind
``SpeechService`` and every stage is timed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from ustad.assess.score import assess
from ustad.assess.types import Assessment
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.speech.audio import AudioDecodeError, AudioTooLongError
from ustad.speech.types import Audio, Transcript
from ustad.tutor.machine import (
    EnglishHeard,
    Event,
    InputRejected,
    NoSpeechHeard,
    RepeatAssessed,
    Target,
    UrduUnderstood,
    Work,
)
from ustad.tutor.texts import ErrorCode
from ustad.vocabulary import LanguageGuess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnPolicy:
    """The knobs of turn processing (from settings)."""

    max_audio_seconds: float = 30.0
    min_speech_seconds: float = 0.25
    urdu_languages: tuple[str, ...] = ("ur", "hi")
    english_detect_threshold: float = 0.5
    word_timestamps: bool = True
    pass_mark: float = 80.0
    low_confidence: float = 0.35
    reconsider_below: float = 35.0
    """A repeat scoring under this is checked for being Urdu (a new sentence)."""
    concurrent: bool = True
    """Run independent stages (the two translations) at the same time."""
    max_turns_in_flight: int = 0
    """Utterances processed at once across all sessions; past it a turn is answered
    "busy" at once instead of queueing without bound (0 = no limit)."""
    quick_language_id: bool = False
    """Look at the language in the short window first and only ask the full window
    when that look is not sure (see ``WhisperTranscriber.detect_language``)."""
    quick_urdu_probability: float = 0.5
    """A short-window answer of Urdu (or Hindi) at least this likely is taken as is."""
    quick_not_urdu_below: float = 0.1
    """A failed repeat whose short-window Urdu + Hindi probability is under this is not
    a new Urdu sentence: no English clip came near it (at most 0.024 on 284 clips)."""


@dataclass
class TurnOutcome:
    """The event for the machine plus what gets stored about the turn."""

    event: Event
    kind: str
    transcript: str | None = None
    detected_language: str | None = None
    language_probability: float | None = None
    audio_seconds: float | None = None
    assessment: Assessment | None = None
    error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class NoSpeechError(ValueError):
    """The recording has no speech in it."""


class TurnProcessor:
    """Turns ``Work`` into an outcome event."""

    def __init__(self, speech: SpeechService, policy: TurnPolicy) -> None:
        self.speech = speech
        self.policy = policy
        self.in_flight = 0
        """Turns being processed now (all sessions; only touched on the event loop)."""
        self.busy_rejections = 0

    async def process(self, work: Work, target: Target | None, timer: TurnTimer) -> TurnOutcome:
        """Decode, check for speech, then handle as the Urdu step or the English repeat.

        Past ``max_turns_in_flight`` the turn is refused straight away: a learner
        told "busy, try again" can act; one waiting behind an unbounded queue cannot.
        """
        kind = "urdu" if work.kind == "urdu" or target is None else "english"
        limit = self.policy.max_turns_in_flight
        if limit and self.in_flight >= limit:
            self.busy_rejections += 1
            return TurnOutcome(
                InputRejected(ErrorCode.BUSY, f"{self.in_flight} turns in flight"),
                kind,
                error=ErrorCode.BUSY.value,
            )
        self.in_flight += 1
        try:
            return await self._process(work, target, kind, timer)
        finally:
            self.in_flight -= 1

    async def _process(
        self, work: Work, target: Target | None, kind: str, timer: TurnTimer
    ) -> TurnOutcome:
        try:
            with timer.stage("decode"):
                audio = await self.speech.decode(
                    work.utterance.audio,
                    max_seconds=self.policy.max_audio_seconds,
                    format_hint=work.utterance.format_hint,
                )
        except AudioTooLongError as error:
            return TurnOutcome(
                InputRejected(ErrorCode.AUDIO_TOO_LONG, str(error)),
                kind,
                error=ErrorCode.AUDIO_TOO_LONG.value,
            )
        except AudioDecodeError as error:
            return TurnOutcome(
                InputRejected(ErrorCode.UNDECODABLE_AUDIO, str(error)),
                kind,
                error=ErrorCode.UNDECODABLE_AUDIO.value,
            )
        with timer.stage("vad"):
            voiced = await self.speech.speech_seconds(audio)
        if voiced < self.policy.min_speech_seconds:
            return TurnOutcome(NoSpeechHeard(), kind, audio_seconds=audio.duration)
        if kind == "urdu":
            return await self._urdu(audio, timer)
        assert target is not None
        return await self._repeat(audio, target, timer)

    async def _identify(self, audio: Audio, quick: LanguageGuess | None = None) -> LanguageGuess:
        """The language: the short window's answer (``quick``, if already asked) when it
        is confidently Urdu, else the full window's. The Urdu transcription that follows
        reuses the short window's encoding, which is the one it needs."""
        policy = self.policy
        if policy.quick_language_id:
            if quick is None:
                quick = await self.speech.detect_language(audio, short_window=True)
            if (
                quick.language in policy.urdu_languages
                and quick.probability >= policy.quick_urdu_probability
            ):
                return quick
        return await self.speech.detect_language(audio)

    async def _urdu(self, audio: Audio, timer: TurnTimer) -> TurnOutcome:
        with timer.stage("stt"):
            guess = await self._identify(audio)
            language, probability = guess.language, guess.probability
            if language == "en" and probability >= self.policy.english_detect_threshold:
                return TurnOutcome(
                    EnglishHeard(language),
                    "urdu",
                    detected_language=language,
                    language_probability=probability,
                    audio_seconds=audio.duration,
                )
            # The learner is an Urdu speaker at the Urdu step: whatever else Whisper
            # guessed (Hindi, Punjabi...) is decoded as Urdu so it comes out in Urdu script.
            transcript = await self.speech.transcribe(audio, english=False, language="ur")
        return await self._understand(audio, transcript, language, probability, timer)

    async def _understand(
        self,
        audio: Audio,
        transcript: Transcript,
        language: str,
        probability: float,
        timer: TurnTimer,
    ) -> TurnOutcome:
        text = transcript.text.strip()
        if not text:
            return TurnOutcome(
                NoSpeechHeard(),
                "urdu",
                detected_language=language,
                language_probability=probability,
                audio_seconds=audio.duration,
            )
        with timer.stage("translate"):
            # The Urdu-script form and the English translation are independent.
            if self.policy.concurrent:
                urdu, translation = await asyncio.gather(
                    self.speech.to_urdu_script(text), self.speech.translate(text, audio)
                )
            else:
                urdu = await self.speech.to_urdu_script(text)
                translation = await self.speech.translate(text, audio)
        if translation is None:
            return TurnOutcome(
                InputRejected(ErrorCode.NO_VALID_AUDIO, "no translation"),
                "urdu",
                transcript=text,
                error="untranslatable",
                audio_seconds=audio.duration,
            )
        target = Target(
            english=translation.text.strip(),
            urdu=urdu,
            provider=translation.provider,
            phrase_id=translation.entry_id,
        )
        return TurnOutcome(
            UrduUnderstood(target),
            "urdu",
            transcript=text,
            detected_language=language,
            language_probability=probability,
            audio_seconds=audio.duration,
            extra={
                "translation_provider": translation.provider,
                "translation_score": translation.score,
            },
        )

    async def _attempt(
        self, audio: Audio, target_text: str, timer: TurnTimer
    ) -> tuple[Transcript, Assessment]:
        """Recognise an English attempt and score it against the target."""
        with timer.stage("stt"):
            transcript = await self.speech.transcribe(
                audio, english=True, language="en", word_timestamps=self.policy.word_timestamps
            )
        policy = self.policy
        with timer.stage("assess"):
            # Alignment tries several readings of numbers: milliseconds of CPU that
            # would otherwise stall every other session's I/O.
            assessment = await self.speech.executor.run(
                lambda: assess(
                    target_text,
                    transcript,
                    pass_mark=policy.pass_mark,
                    low_confidence=policy.low_confidence,
                )
            )
        return transcript, assessment

    async def _repeat(self, audio: Audio, target: Target, timer: TurnTimer) -> TurnOutcome:
        transcript, assessment = await self._attempt(audio, target.english, timer)
        if assessment.scores.overall < self.policy.reconsider_below:
            switched = await self._maybe_new_sentence(audio, timer)
            if switched is not None:
                return switched
        if not transcript.text.strip():
            return TurnOutcome(NoSpeechHeard(), "english", audio_seconds=audio.duration)
        return TurnOutcome(
            RepeatAssessed(assessment),
            "english",
            transcript=transcript.text.strip(),
            detected_language="en",
            audio_seconds=audio.duration,
            assessment=assessment,
        )

    async def _maybe_new_sentence(self, audio: Audio, timer: TurnTimer) -> TurnOutcome | None:
        """A repeat that failed badly may be the learner saying a new Urdu sentence."""
        policy = self.policy
        with timer.stage("stt"):
            quick = None
            if policy.quick_language_id:
                quick = await self.speech.detect_language(audio, short_window=True)
                if quick.share(policy.urdu_languages) < policy.quick_not_urdu_below:
                    return None
            guess = await self._identify(audio, quick)
            language, probability = guess.language, guess.probability
            if language not in policy.urdu_languages or probability < 0.5:
                return None
            transcript = await self.speech.transcribe(audio, english=False, language="ur")
        log.info("repeat attempt was Urdu (%s %.2f): new sentence", language, probability)
        return await self._understand(audio, transcript, language, probability, timer)

    async def assess_recording(
        self,
        data: bytes,
        target_text: str,
        *,
        format_hint: str | None = None,
        timer: TurnTimer | None = None,
    ) -> Assessment:
        """Assess one English recording against a target (REST and CLI).

        Raises the decoder's errors, or ``NoSpeechError`` when there is no speech.
        """
        timer = timer or TurnTimer()
        with timer.stage("decode"):
            audio = await self.speech.decode(
                data, max_seconds=self.policy.max_audio_seconds, format_hint=format_hint
            )
        with timer.stage("vad"):
            voiced = await self.speech.speech_seconds(audio)
        if voiced < self.policy.min_speech_seconds:
            raise NoSpeechError("no speech detected in the recording")
        _, assessment = await self._attempt(audio, target_text, timer)
        return assessment
