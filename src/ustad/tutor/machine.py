"""The learn cycle as a pure state machine: events in, actions out.

It never does I/O. The transport turns WebSocket messages into events; an
utterance becomes a ``Work`` action that the tutor service carries out (decode,
recognise, translate, assess) and whose outcome comes back as another event.
Replies are ``Reply`` actions; the transport synthesises and sends them.

Messages that do not fit the state (see docs/protocol-notes.md):

- a stale or duplicate ack is ignored (an ``Ignored`` action, for the log);
- an utterance while an ack is awaited (the learner did not wait for the audio
  or skipped word-by-word practice) is taken as the English repeat attempt;
- an utterance at the repeat step that turns out to be Urdu is a new sentence:
  the current cycle is abandoned (it stays stored) and the new one starts;
- ``next_sentence`` before any sentence was understood is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from ustad.assess.types import Assessment
from ustad.speech.types import SpokenText
from ustad.tutor import texts
from ustad.tutor.feedback import feedback
from ustad.tutor.texts import ErrorCode, Mode


class State(StrEnum):
    """Where the learner is in the cycle."""

    AWAIT_URDU = "AWAIT_URDU"
    AWAIT_YOU_SAID_ACK = "AWAIT_YOU_SAID_ACK"
    AWAIT_WORD_BY_WORD_ACK = "AWAIT_WORD_BY_WORD_ACK"
    AWAIT_REPEAT = "AWAIT_REPEAT"
    AWAIT_FEEDBACK_ACK = "AWAIT_FEEDBACK_ACK"


class Step(StrEnum):
    """The ``step`` of a server message."""

    NO_SPEECH = "no_speech"
    ENGLISH_INPUT_EDGE_CASE = "english_input_edge_case"
    YOU_SAID_AUDIO = "you_said_audio"
    REPEAT_PROMPT = "repeat_prompt"
    FULL_SENTENCE_AUDIO = "full_sentence_audio"
    AWAIT_NEXT = "await_next"
    FEEDBACK_STEP = "feedback_step"
    WORD_BY_WORD = "word_by_word"
    ERROR = "error"


class AckKind(StrEnum):
    """Client acknowledgements (the ``type`` of the message)."""

    YOU_SAID_COMPLETE = "you_said_complete"
    WORD_BY_WORD_COMPLETE = "word_by_word_complete"
    FEEDBACK_COMPLETE = "feedback_complete"


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

    @property
    def words(self) -> tuple[str, ...]:
        """The English sentence's words, in order."""
        return sentence_words(self.english)


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

    mode: Mode


@dataclass(frozen=True)
class InputRejected:
    """A message or utterance was bad input."""

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
    | RepeatAssessed
)

# --- actions --------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Send a server message; ``speak`` adds the binary audio frame."""

    step: Step
    spoken: SpokenText
    speak: bool
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Work:
    """Process an utterance: as the Urdu sentence or as the English repeat."""

    kind: Literal["urdu", "repeat"]
    utterance: Utterance


@dataclass(frozen=True)
class CycleStarted:
    """A new sentence is being practised."""

    target: Target


@dataclass(frozen=True)
class CycleEnded:
    """The current sentence is done with."""

    status: Literal["passed", "skipped", "abandoned"]


@dataclass(frozen=True)
class Ignored:
    """A message that did not fit the state; nothing is sent."""

    reason: str


Action = Reply | Work | CycleStarted | CycleEnded | Ignored

_ACK_STATE: dict[AckKind, State] = {
    AckKind.YOU_SAID_COMPLETE: State.AWAIT_YOU_SAID_ACK,
    AckKind.WORD_BY_WORD_COMPLETE: State.AWAIT_WORD_BY_WORD_ACK,
    AckKind.FEEDBACK_COMPLETE: State.AWAIT_FEEDBACK_ACK,
}


class LearnMachine:
    """One learner's position in the cycle."""

    def __init__(self, mode: Mode = "urdu") -> None:
        self.state = State.AWAIT_URDU
        self.mode: Mode = mode
        self.target: Target | None = None
        self.attempts = 0
        """English attempts at the current target."""

    def handle(self, event: Event) -> list[Action]:
        """Apply one event and return what to do, in order."""
        match event:
            case SetMode(mode):
                self.mode = mode
                return []
            case InputRejected(code):
                return [self._error(code)]
            case Utterance():
                work: Literal["urdu", "repeat"] = (
                    "urdu" if self.state is State.AWAIT_URDU else "repeat"
                )
                return [Work(work, event)]
            case Ack(ack):
                return self._ack(ack)
            case NextSentence():
                return self._next_sentence()
            case NoSpeechHeard():
                return [Reply(Step.NO_SPEECH, texts.no_speech(self.mode), speak=False)]
            case EnglishHeard(language):
                return [
                    Reply(
                        Step.ENGLISH_INPUT_EDGE_CASE,
                        texts.english_instead_of_urdu(self.mode),
                        speak=True,
                        fields={"detected_language": language},
                    )
                ]
            case UrduUnderstood(target):
                return self._understood(target)
            case RepeatAssessed(assessment):
                return self._assessed(assessment)

    # --- transitions --------------------------------------------------------

    def _understood(self, target: Target) -> list[Action]:
        actions: list[Action] = []
        if self.target is not None:
            actions.append(CycleEnded("abandoned"))
        self.target = target
        self.attempts = 0
        self.state = State.AWAIT_YOU_SAID_ACK
        actions.append(CycleStarted(target))
        actions.append(
            Reply(
                Step.YOU_SAID_AUDIO,
                texts.you_said(self.mode, target.urdu, target.english),
                speak=True,
                fields=self._sentence_fields(target),
            )
        )
        return actions

    def _ack(self, kind: AckKind) -> list[Action]:
        if self.state is not _ACK_STATE[kind] or self.target is None:
            return [Ignored(f"{kind.value} in {self.state.value}")]
        target = self.target
        if kind is AckKind.YOU_SAID_COMPLETE:
            self.state = State.AWAIT_WORD_BY_WORD_ACK
            spoken = texts.repeat_prompt(self.mode, target.english)
            return [Reply(Step.REPEAT_PROMPT, spoken, False, self._sentence_fields(target))]
        if kind is AckKind.WORD_BY_WORD_COMPLETE:
            self.state = State.AWAIT_REPEAT
            spoken = texts.full_sentence(self.mode, target.english)
            return [
                Reply(Step.FULL_SENTENCE_AUDIO, spoken, True, {"english_sentence": target.english})
            ]
        self.state = State.AWAIT_WORD_BY_WORD_ACK
        spoken = texts.word_by_word(self.mode, target.english)
        return [Reply(Step.WORD_BY_WORD, spoken, False, self._sentence_fields(target))]

    def _assessed(self, assessment: Assessment) -> list[Action]:
        if self.target is None:
            return [Ignored("assessment without a target")]
        self.attempts += 1
        spoken = feedback(assessment, self.mode)
        fields = {
            "is_true": assessment.passed,
            "english_sentence": self.target.english,
            "attempt": self.attempts,
            "assessment": assessment.to_dict(),
        }
        if assessment.passed:
            self.state = State.AWAIT_URDU
            self.target = None
            return [CycleEnded("passed"), Reply(Step.AWAIT_NEXT, spoken, True, fields)]
        self.state = State.AWAIT_FEEDBACK_ACK
        return [Reply(Step.FEEDBACK_STEP, spoken, True, fields)]

    def _next_sentence(self) -> list[Action]:
        if self.target is None:
            return [Ignored(f"next_sentence in {self.state.value}")]
        english = self.target.english
        self.state = State.AWAIT_URDU
        self.target = None
        return [
            CycleEnded("skipped"),
            Reply(
                Step.AWAIT_NEXT,
                texts.skipped(self.mode),
                speak=True,
                fields={"is_true": False, "skipped": True, "english_sentence": english},
            ),
        ]

    def _error(self, code: ErrorCode) -> Reply:
        spoken = SpokenText.single(
            "ur" if self.mode == "urdu" else "en", texts.error_text(code, self.mode)
        )
        return Reply(Step.ERROR, spoken, speak=False, fields={"code": code.value})

    @staticmethod
    def _sentence_fields(target: Target) -> dict[str, Any]:
        return {
            "english_sentence": target.english,
            "urdu_sentence": target.urdu,
            "words": list(target.words),
        }
