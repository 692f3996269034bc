"""The knobs of turn processing (``TurnProcessor``), read from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from ustad.learn.language_gate import GateThresholds
from ustad.settings import Settings


@dataclass(frozen=True)
class TurnPolicy:
    """The knobs of turn processing; every default lives in ``ustad.settings``."""

    max_audio_seconds: float
    min_speech_seconds: float
    urdu_languages: tuple[str, ...]
    gate: GateThresholds
    """The English gate's thresholds (``ustad.learn.language_gate``)."""
    word_timestamps: bool
    pass_mark: float
    low_confidence: float
    reconsider_below: float
    """A repeat scoring under this is checked for being Urdu (a new sentence)."""
    concurrent: bool
    """Run independent stages (the two translations) at the same time."""
    max_turns_in_flight: int
    """Utterances processed at once across all sessions (0 = no limit)."""
    quick_language_id: bool
    """Look at the language in the short window first (``detect_language(short_window=True)``)."""
    quick_urdu_probability: float
    """A short-window answer of Urdu (or Hindi) at least this likely is taken as is."""
    quick_english_share: float
    """A short-window English share at least this is taken as English without the full
    window (at the Urdu step, and a failed repeat is left an attempt); one under
    ``gate.urdu_share_below`` as Urdu."""
    wrong_word_fails: bool
    """A content word heard as a clearly different word fails the attempt."""
    target_support: bool
    """Ask a recogniser (``support_model``) how well the audio supports the target when
    the transcript flagged a word (``assessment.target_support``)."""
    support_model: str
    """``english`` or ``multilingual``: the recogniser that reads the target."""
    support_min_overall: float
    """Target support is asked only when the transcript-only overall score is at least this."""
    support_probability: float
    prompted_probability: float
    prompted_when_needed: bool
    """Skip the support's prompted decoding when it cannot change which target words are
    supported (``ustad.assess.support.prompted_matters``); off in baseline mode."""
    phone_support: bool
    """Ask the phone stage about words still flagged after the target support."""
    phone_support_score: int
    phone_support_min_overall: float
    """The phone stage is asked only when the score after target support is at least this."""
    phones: bool
    """Run the phone stage on every assessed attempt and add its result to the
    assessment (``assessment.phones``)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> TurnPolicy:
        """The policy the settings describe (``settings.effective()`` for baseline mode)."""
        stt = language = settings.stt
        return cls(
            max_audio_seconds=settings.limits.max_audio_seconds,
            min_speech_seconds=settings.limits.min_speech_seconds,
            urdu_languages=tuple(language.urdu_languages),
            gate=GateThresholds(
                english_share=language.english_share,
                urdu_share_below=language.urdu_share_below,
                urdu_min_logprob=language.urdu_min_logprob,
                english_min_logprob=language.english_min_logprob,
            ),
            word_timestamps=stt.word_timestamps,
            pass_mark=settings.assessment.pass_mark,
            low_confidence=settings.assessment.low_confidence,
            reconsider_below=settings.assessment.reconsider_below,
            concurrent=settings.runtime.mode == "optimised",
            max_turns_in_flight=settings.runtime.turns_in_flight_limit,
            quick_language_id=stt.short_clip_window,
            quick_urdu_probability=language.quick_urdu_probability,
            quick_english_share=language.quick_english_share,
            wrong_word_fails=settings.assessment.wrong_word_fails,
            target_support=settings.assessment.target_support,
            support_model=settings.assessment.support_model,
            support_min_overall=settings.assessment.support_min_overall,
            support_probability=settings.assessment.support_probability,
            prompted_probability=settings.assessment.prompted_probability,
            prompted_when_needed=settings.runtime.mode == "optimised",
            phone_support=settings.assessment.phone_support,
            phone_support_score=settings.assessment.phone_support_score,
            phone_support_min_overall=settings.assessment.phone_support_min_overall,
            phones=settings.assessment.phones,
        )
