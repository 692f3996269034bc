"""Carrying out one utterance: from bytes to the event the state machine needs.

The tutoring rules that need engines live here (which language was spoken,
whether a failed repeat was really a new Urdu sentence); the engines are behind
``SpeechService`` and every stage is timed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ustad.assess.score import assess
from ustad.assess.support import needs_support, prompted_check, with_phone_evidence
from ustad.assess.types import Assessment
from ustad.learn.events import (
    EnglishHeard,
    Event,
    InputRejected,
    NoSpeechHeard,
    NoTarget,
    RepeatAssessed,
    Target,
    UrduUnderstood,
    Work,
)
from ustad.learn.language_gate import (
    english_confident,
    english_share,
    needs_english_vote,
    share_zone,
    urdu_doubt,
    votes_english,
)
from ustad.learn.phone_stage import AttemptPhones
from ustad.learn.policy import TurnPolicy
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.speech.audio import AudioDecodeError, AudioTooLongError
from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.types import Audio, Transcript, WordSupport
from ustad.vocabulary import ErrorCode, LanguageGuess, TurnKind

__all__ = ["NoSpeechError", "TurnOutcome", "TurnPolicy", "TurnProcessor"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnOutcome:
    """The event for the machine plus what gets stored about the turn.

    ``error`` is read off the event, so the code stored with a turn is always the
    one its client was sent."""

    event: Event
    kind: TurnKind
    transcript: str | None = None
    language: LanguageGuess | None = None
    """The language check, when one ran."""
    audio_seconds: float | None = None
    assessment: Assessment | None = None

    @property
    def error(self) -> ErrorCode | None:
        """The error code the client receives, if the turn was rejected."""
        return self.event.code if isinstance(self.event, InputRejected | NoTarget) else None


class NoSpeechError(ValueError):
    """The recording has no speech in it."""


class TurnProcessor:
    """Turns ``Work`` into an outcome event."""

    def __init__(
        self, speech: SpeechService, policy: TurnPolicy, phones: PhoneAligner | None = None
    ) -> None:
        """``phones``: the phone stage, asked when ``policy.phone_support`` or
        ``policy.phones`` is on."""
        self.speech = speech
        self.policy = policy
        self.phones = phones
        self.in_flight = 0
        """Turns being processed now (all sessions; only touched on the event loop)."""
        self.idle = asyncio.Event()
        """Set while no turn is in flight: lower-priority work (REST) waits for it."""
        self.idle.set()
        self.busy_rejections = 0

    def warm_up(self) -> None:
        """Load now what the first turn would otherwise load while learners wait: the phone
        stage's pronouncing dictionary (about 0.7 s of CPU). Blocking: run it on the
        engine executor."""
        if self.phones is not None:
            self.phones.pronouncer.load()

    async def process(self, work: Work, target: Target | None, timer: TurnTimer) -> TurnOutcome:
        """Decode, check for speech, then handle as the Urdu step or the English repeat.

        Past ``max_turns_in_flight`` the turn is refused straight away: a learner
        told "busy, try again" can act; one waiting behind an unbounded queue cannot.
        """
        kind = TurnKind.URDU_STEP if target is None else work.kind
        limit = self.policy.max_turns_in_flight
        if limit and self.in_flight >= limit:
            self.busy_rejections += 1
            busy = InputRejected(ErrorCode.BUSY, f"{self.in_flight} turns in flight")
            return TurnOutcome(busy, kind)
        self.in_flight += 1
        self.idle.clear()
        try:
            return await self._process(work, target, kind, timer)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()

    async def _process(
        self, work: Work, target: Target | None, kind: TurnKind, timer: TurnTimer
    ) -> TurnOutcome:
        try:
            with timer.stage("decode"):
                audio = await self.speech.decode(
                    work.utterance.audio,
                    max_seconds=self.policy.max_audio_seconds,
                    format_hint=work.utterance.format_hint,
                )
        except AudioTooLongError as error:
            return TurnOutcome(InputRejected(ErrorCode.AUDIO_TOO_LONG, str(error)), kind)
        except AudioDecodeError as error:
            return TurnOutcome(InputRejected(ErrorCode.UNDECODABLE_AUDIO, str(error)), kind)
        with timer.stage("vad"):
            voiced = await self.speech.speech_seconds(audio)
        if voiced < self.policy.min_speech_seconds:
            return TurnOutcome(NoSpeechHeard(), kind, audio_seconds=audio.duration)
        if target is None or kind is TurnKind.URDU_STEP:
            return await self._urdu(audio, timer)
        return await self._repeat(audio, target, timer)

    async def _identify(self, audio: Audio) -> LanguageGuess:
        """The language: the short window's answer when it decides, else the full
        window's.

        The short window decides when it is confidently Urdu (``quick_urdu_probability``)
        or, given a distribution, its English share is decisive either way: under
        ``gate.urdu_share_below`` or at least ``quick_english_share`` (and
        ``gate.english_share``, so that a short answer taken is never one the full
        window's band would have checked). The full window costs a 30 s encoding (base:
        about 1 s of CPU, four times the short one) and, measured on the shared clips
        (docs/measurements.md), changed no such decision. An Urdu transcription that
        follows reuses the short window's encoding, which is the one it needs."""
        policy = self.policy
        if policy.quick_language_id:
            quick = await self.speech.detect_language(audio, short_window=True)
            sure_of_urdu = (
                quick.language in policy.urdu_languages
                and quick.probability >= policy.quick_urdu_probability
            )
            zone = share_zone(
                english_share(quick, policy.urdu_languages),
                policy.gate.urdu_share_below,
                max(policy.quick_english_share, policy.gate.english_share),
            )
            if sure_of_urdu or (len(quick.distribution) > 1 and zone != "band"):
                return quick
        return await self.speech.detect_language(audio)

    async def _urdu(self, audio: Audio, timer: TurnTimer) -> TurnOutcome:
        """The Urdu step: English (the learner is asked for Urdu) or an Urdu sentence.

        Language identification restricted to English against Urdu + Hindi decides
        when it is sure; otherwise the forced-Urdu transcript (needed for Urdu anyway)
        and, only when the two disagree, the English recogniser vote
        (``language_gate.votes_english``)."""
        with timer.stage("stt"):
            guess = await self._identify(audio)
            share = english_share(guess, self.policy.urdu_languages)
            if share >= self.policy.gate.english_share:
                return self._english(audio, guess)
            # The learner is an Urdu speaker at the Urdu step: whatever else Whisper
            # guessed (Hindi, Punjabi...) is decoded as Urdu so it comes out in Urdu script.
            transcript = await self.speech.transcribe(audio, english=False, language="ur")
            if share >= self.policy.gate.urdu_share_below and await self._english_after_all(
                audio, transcript, share, None
            ):
                return self._english(audio, guess)
        return await self._understand(audio, transcript, guess, timer)

    def _english(self, audio: Audio, guess: LanguageGuess) -> TurnOutcome:
        """English heard at the Urdu step (whatever language Whisper put first)."""
        return TurnOutcome(
            EnglishHeard("en"), TurnKind.URDU_STEP, language=guess, audio_seconds=audio.duration
        )

    async def _english_after_all(
        self, audio: Audio, urdu: Transcript, share: float, english: Transcript | None
    ) -> bool:
        """The unsure band's vote; the English recogniser runs only when needed (its
        transcript is reused when the caller already has one)."""
        gate = self.policy.gate
        doubt = urdu_doubt(urdu, min_logprob=gate.urdu_min_logprob)
        sure: bool | None = None
        if needs_english_vote(share, doubt is not None):
            if english is None:
                # Only its confidence is read: the quick reading (see ``transcribe``).
                english = await self.speech.transcribe(
                    audio, english=True, language="en", quick=True
                )
            sure = english_confident(english, min_logprob=gate.english_min_logprob)
        decision = votes_english(share, doubt is not None, sure)
        log.info(
            "unsure language (English share %.2f; Urdu %s; English recogniser %s): %s",
            share,
            doubt or "plausible",
            "not asked" if sure is None else "confident" if sure else "unsure",
            "English" if decision else "Urdu",
        )
        return decision

    async def _understand(
        self, audio: Audio, transcript: Transcript, guess: LanguageGuess, timer: TurnTimer
    ) -> TurnOutcome:
        text = transcript.text.strip()
        if not text:
            return TurnOutcome(
                NoSpeechHeard(), TurnKind.URDU_STEP, language=guess, audio_seconds=audio.duration
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
        if translation is None or not translation.text.strip():
            # No provider had a sentence it would stand behind (the speech translation
            # refuses loops, repeated phrases and unsure decodes): ask again rather than
            # teach a broken sentence.
            return TurnOutcome(
                NoTarget("no translation fit to teach"),
                TurnKind.URDU_STEP,
                transcript=text,
                language=guess,
                audio_seconds=audio.duration,
            )
        target = Target(
            english=translation.text.strip(),
            urdu=urdu,
            provider=translation.provider,
            phrase_id=translation.entry_id,
            confidence=translation.confidence,
        )
        return TurnOutcome(
            UrduUnderstood(target),
            TurnKind.URDU_STEP,
            transcript=text,
            language=guess,
            audio_seconds=audio.duration,
        )

    async def _attempt(
        self, audio: Audio, target_text: str, timer: TurnTimer
    ) -> tuple[Transcript, Assessment]:
        """Recognise an English attempt and score it against the target.

        When the transcript flags a target word, ``target_support`` is on and the
        transcript-only score is at least ``support_min_overall`` (0: always), the
        recogniser's forced reading of the target on the same audio (one alignment pass,
        and a prompted decoding when it can matter: ``prompted_when_needed``; timed as
        ``stt``) is a second opinion, and the attempt is scored again with it
        (``ustad.assess.support``); the phone stage is the third, for words still
        flagged on an attempt that then scores at least ``phone_support_min_overall``.
        With ``phones`` on, the phone stage's result is added to the assessment
        (:meth:`Assessment.with_phones`); it is aligned once whichever of
        ``phone_support`` and ``phones`` asks first (``AttemptPhones``).
        """
        with timer.stage("stt"):
            transcript = await self.speech.transcribe(
                audio, english=True, language="en", word_timestamps=self.policy.word_timestamps
            )
        policy = self.policy

        def scored(support: tuple[WordSupport, ...] | None = None) -> Assessment:
            return assess(
                target_text,
                transcript,
                pass_mark=policy.pass_mark,
                low_confidence=policy.low_confidence,
                wrong_word_fails=policy.wrong_word_fails,
                support=support,
                support_probability=policy.support_probability,
                prompted_probability=policy.prompted_probability,
            )

        with timer.stage("assess"):
            # Alignment tries several readings of numbers: milliseconds of CPU that
            # would otherwise stall every other session's I/O.
            assessment = await self.speech.executor.run(scored)
        said = bool(transcript.text.strip())
        phones = None
        if self.phones is not None and said:
            phones = AttemptPhones(self.phones, self.speech, audio, target_text)
        if policy.target_support and said and needs_support(assessment, policy.support_min_overall):
            wanted = None
            if policy.prompted_when_needed:
                wanted = prompted_check(
                    target_text, policy.support_probability, policy.prompted_probability
                )
            with timer.stage("stt"):
                support = await self.speech.target_support(
                    audio,
                    target_text,
                    english=policy.support_model == "english",
                    prompted=wanted,
                )
            with timer.stage("assess"):
                assessment = await self.speech.executor.run(lambda: scored(support))
            if (
                phones is not None
                and policy.phone_support
                and needs_support(assessment, policy.phone_support_min_overall)
            ):
                with timer.stage("assess"):
                    found = await phones.result()
                    if found is not None:
                        support = with_phone_evidence(
                            phones.words, support, found, policy.phone_support_score
                        )
                        assessment = await self.speech.executor.run(lambda: scored(support))
        if phones is not None and policy.phones:
            with timer.stage("assess"):
                found = await phones.result()
            if found is not None:
                assessment = assessment.with_phones(found)
        return transcript, assessment

    async def _repeat(self, audio: Audio, target: Target, timer: TurnTimer) -> TurnOutcome:
        transcript, assessment = await self._attempt(audio, target.english, timer)
        if assessment.scores.overall < self.policy.reconsider_below:
            switched = await self._maybe_new_sentence(audio, transcript, timer)
            if switched is not None:
                return switched
        kind = TurnKind.ENGLISH_REPEAT
        if not transcript.text.strip():
            return TurnOutcome(NoSpeechHeard(), kind, audio_seconds=audio.duration)
        return TurnOutcome(
            RepeatAssessed(assessment),
            kind,
            # What was heard, with offensive words the target lacks hidden.
            transcript=assessment.transcript,
            audio_seconds=audio.duration,
            assessment=assessment,
        )

    async def _maybe_new_sentence(
        self, audio: Audio, attempt: Transcript, timer: TurnTimer
    ) -> TurnOutcome | None:
        """A repeat that failed badly may be the learner saying a new Urdu sentence.

        The same gate as the Urdu step, with the English ``attempt`` as the English
        recogniser's vote, plus one more condition: abandoning the cycle takes a
        plausible Urdu transcript, whatever the language identification said."""
        policy = self.policy
        with timer.stage("stt"):
            if policy.quick_language_id:
                # In the window of the attempt's English readings (their encoding is
                # reused), measured on English only: it can only keep the attempt. Any
                # other answer is the Urdu step's to give, in that step's windows (for a
                # clip up to 8 s the same look again, its encoding reused).
                quick = await self.speech.detect_language(
                    audio, short_window=True, english_attempt=True
                )
                if english_share(quick, policy.urdu_languages) >= policy.quick_english_share:
                    return None
            guess = await self._identify(audio)
            share = english_share(guess, policy.urdu_languages)
            if share >= policy.gate.english_share:
                return None
            transcript = await self.speech.transcribe(audio, english=False, language="ur")
            if urdu_doubt(transcript, min_logprob=policy.gate.urdu_min_logprob) is not None:
                return None
            if share >= policy.gate.urdu_share_below and await self._english_after_all(
                audio, transcript, share, attempt
            ):
                return None
        log.info("repeat attempt was Urdu (English share %.2f): new sentence", share)
        return await self._understand(audio, transcript, guess, timer)

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
