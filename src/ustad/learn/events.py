"""What flows through the learn cycle: the target, events in, actions out.

Events come from the client (an utterance, an ack, ``next_sentence``, a mode
switch, bad input) or from the turn processor (what an utterance turned out to
be). Actions are what the session must do: process an utterance (``Work``),
answer (``Reply``), and open or close a cycle in the store. A ``Reply`` is typed:
the wire names its fields, the machine never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ustad.assess.types import Assessment
from ustad.speech.types import SpokenText
from ustad.vocabulary import CycleStatus, ErrorCode, LanguageMode, Step, TurnKind

_WORD_EDGES = re.compile(r"^[^\w']+|[^\w']+$")


def sentence_words(english: str) -> tuple[str, ...]:
    """The words of a sentence in order, without surrounding punctuation."""
    words = (_WORD_EDGES.sub("", token) for token in english.split())
    return tuple(word for word in words if word)


@dataclass(frozen=True)
class Target:
    """The sentence a cycle practises."""

    english: str
    urdu: str
    provider: str = "memory"
    """Which translator produced ``english`` (``memory``, ``whisper``, ...)."""
    phrase_id: str | None = None
    confidence: float | None = None
    """How sure ``provider`` was of ``english``, 0-1 (``Translation.confidence``: the
    phrase bank's match score over 100, a speech translation's geometric-mean token
    probability); ``None`` when the provider did not say."""

    @property
    def words(self) -> tuple[str, ...]:
        """The English sentence's words, in order."""
        return sentence_words(self.english)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``Target.from_dict`` reads it back)."""
        return {
            "english": self.english,
            "urdu": self.urdu,
            "provider": self.provider,
            "phrase_id": self.phrase_id,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        """The target ``to_dict`` wrote (raises ``KeyError``/``TypeError`` on other data)."""
        phrase_id = data.get("phrase_id")
        confidence = data.get("confidence")
        return cls(
            english=str(data["english"]),
            urdu=str(data["urdu"]),
            provider=str(data.get("provider", "memory")),
            phrase_id=None if phrase_id is None else str(phrase_id),
            confidence=None if confidence is None else float(confidence),
        )


class AckKind(StrEnum):
    """Client acknowledgements (the ``type`` of the message)."""

    YOU_SAID_COMPLETE = "you_said_complete"
    WORD_BY_WORD_COMPLETE = "word_by_word_complete"
    FEEDBACK_COMPLETE = "feedback_complete"


# --- events ---------------------------------------------------------------


@dataclass(frozen=True)
class Utterance:
    """The learner said something (audio bytes as received)."""

    audio: bytes = field(repr=False)
    format_hint: str | None = None


@dataclass(frozen=True)
class Ack:
    """The client finished something (playing audio, practising)."""

    kind: AckKind


@dataclass(frozen=True)
class NextSentence:
    """The learner gives up on the current sentence."""


@dataclass(frozen=True)
class SetMode:
    """``language_mode`` rode on a message; it applies from this message on."""

    mode: LanguageMode


@dataclass(frozen=True)
class InputRejected:
    """A message or utterance was bad input (or could not be processed)."""

    code: ErrorCode
    detail: str | None = None


@dataclass(frozen=True)
class NoSpeechHeard:
    """The utterance had no speech in it."""


@dataclass(frozen=True)
class EnglishHeard:
    """English was spoken where Urdu was expected."""

    language: str


@dataclass(frozen=True)
class UrduUnderstood:
    """An Urdu sentence was transcribed and translated."""

    target: Target


@dataclass(frozen=True)
class NoTarget:
    """Urdu was heard, but no English sentence fit to be taught could be had.

    The learner is asked to say it again, more simply; the client gets an ``error``
    with ``code``, the one stored with the turn."""

    reason: str
    code: ErrorCode = ErrorCode.NO_VALID_AUDIO


@dataclass(frozen=True)
class RepeatAssessed:
    """The English attempt was scored."""

    assessment: Assessment


Event = (
    Utterance
    | Ack
    | NextSentence
    | SetMode
    | InputRejected
    | NoSpeechHeard
    | EnglishHeard
    | UrduUnderstood
    | NoTarget
    | RepeatAssessed
)

# --- actions --------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """How an English attempt ended (on ``feedback_step`` and ``await_next``)."""

    passed: bool
    """The wire's ``is_true``."""
    attempt: int | None = None
    """English attempts at this target so far (``None`` when skipped)."""
    assessment: Assessment | None = None
    skipped: bool = False


@dataclass(frozen=True)
class Reply:
    """Send a server message; ``speak`` adds the binary audio frame.

    Every optional part is ``None`` when the step does not carry it."""

    step: Step
    spoken: SpokenText
    speak: bool
    english_sentence: str | None = None
    urdu_sentence: str | None = None
    words: tuple[str, ...] | None = None
    verdict: Verdict | None = None
    detected_language: str | None = None
    error: ErrorCode | None = None


@dataclass(frozen=True)
class Work:
    """Process an utterance as the Urdu sentence or as the English repeat."""

    kind: TurnKind
    utterance: Utterance


@dataclass(frozen=True)
class CycleStarted:
    """A new sentence is being practised."""

    target: Target


@dataclass(frozen=True)
class CycleEnded:
    """The current sentence is done with."""

    status: CycleStatus


@dataclass(frozen=True)
class Ignored:
    """A message that did not fit the state; nothing is sent."""

    reason: str


Action = Reply | Work | CycleStarted | CycleEnded | Ignored
