"""The learn cycle as a pure state machine: events in, actions out.

It never does I/O. The session turns client messages into events; an utterance
becomes a ``Work`` action that the turn processor carries out (decode, recognise,
translate, assess) and whose outcome comes back as another event. Replies are
``Reply`` actions; the session synthesises and sends them and stores the turn.

Its whole state is a ``LearnState``, a plain value that survives a round trip
through JSON, so a session can be kept outside the process and resumed elsewhere.

Messages that do not fit the state (see docs/protocol-notes.md):

- a stale or duplicate ack is ignored (an ``Ignored`` action, for the log);
- an utterance while an ack is awaited (the learner did not wait for the audio
  or skipped word-by-word practice) is taken as the English repeat attempt;
- an utterance at the repeat step that turns out to be Urdu is a new sentence:
  the current cycle is abandoned (it stays stored) and the new one starts;
- ``next_sentence`` before any sentence was understood is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ustad.assess.types import Assessment
from ustad.learn.events import (
    Ack,
    AckKind,
    Action,
    CycleEnded,
    CycleStarted,
    EnglishHeard,
    Event,
    Ignored,
    InputRejected,
    NextSentence,
    NoSpeechHeard,
    NoTarget,
    RepeatAssessed,
    Reply,
    SetMode,
    Target,
    UrduUnderstood,
    Utterance,
    Verdict,
    Work,
)
from ustad.speech.types import SpokenText
from ustad.tutor import texts
from ustad.tutor.feedback import feedback
from ustad.vocabulary import CycleStatus, ErrorCode, LanguageMode, Step, TurnKind


class State(StrEnum):
    """Where the learner is in the cycle."""

    AWAIT_URDU = "AWAIT_URDU"
    AWAIT_YOU_SAID_ACK = "AWAIT_YOU_SAID_ACK"
    AWAIT_WORD_BY_WORD_ACK = "AWAIT_WORD_BY_WORD_ACK"
    AWAIT_REPEAT = "AWAIT_REPEAT"
    AWAIT_FEEDBACK_ACK = "AWAIT_FEEDBACK_ACK"


_ACK_STATE: dict[AckKind, State] = {
    AckKind.YOU_SAID_COMPLETE: State.AWAIT_YOU_SAID_ACK,
    AckKind.WORD_BY_WORD_COMPLETE: State.AWAIT_WORD_BY_WORD_ACK,
    AckKind.FEEDBACK_COMPLETE: State.AWAIT_FEEDBACK_ACK,
}


@dataclass(frozen=True)
class LearnState:
    """Everything the machine knows: a plain, JSON-serialisable value."""

    state: State = State.AWAIT_URDU
    mode: LanguageMode = "urdu"
    target: Target | None = None
    attempts: int = 0
    """English attempts at the current target."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``LearnState.from_dict`` reads it back)."""
        return {
            "state": self.state.value,
            "mode": self.mode,
            "target": None if self.target is None else self.target.to_dict(),
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnState:
        """The state ``to_dict`` wrote; raises ``ValueError`` on anything else."""
        try:
            mode = data["mode"]
            if mode not in ("urdu", "english"):
                raise ValueError(f"unknown mode {mode!r}")
            target = data.get("target")
            state = cls(
                state=State(data["state"]),
                mode=mode,
                target=None if target is None else Target.from_dict(target),
                attempts=int(data.get("attempts", 0)),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a learn state: {error}") from error
        if (state.target is None) != (state.state is State.AWAIT_URDU):
            raise ValueError("a target is set exactly when a sentence is being practised")
        return state


class LearnMachine:
    """One learner's position in the cycle (``state`` holds all of it)."""

    def __init__(self, mode: LanguageMode = "urdu", *, state: LearnState | None = None) -> None:
        self.snapshot = state if state is not None else LearnState(mode=mode)

    @property
    def state(self) -> State:
        """Where the learner is in the cycle."""
        return self.snapshot.state

    @property
    def mode(self) -> LanguageMode:
        """The language of the instructions."""
        return self.snapshot.mode

    @property
    def target(self) -> Target | None:
        """The sentence being practised (``None`` at the Urdu step)."""
        return self.snapshot.target

    @property
    def attempts(self) -> int:
        """English attempts at the current target."""
        return self.snapshot.attempts

    def _set(self, **changes: Any) -> None:
        self.snapshot = replace(self.snapshot, **changes)

    def handle(self, event: Event) -> list[Action]:
        """Apply one event and return what to do, in order."""
        match event:
            case SetMode(mode):
                self._set(mode=mode)
                return []
            case InputRejected(code):
                return [self._error(code)]
            case Utterance():
                kind = (
                    TurnKind.URDU_STEP
                    if self.state is State.AWAIT_URDU
                    else TurnKind.ENGLISH_REPEAT
                )
                return [Work(kind, event)]
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
                        detected_language=language,
                    )
                ]
            case UrduUnderstood(target):
                return self._understood(target)
            case NoTarget(_, code):
                spoken = texts.say_it_again(self.mode)
                return [Reply(Step.ERROR, spoken, speak=False, error=code)]
            case RepeatAssessed(assessment):
                return self._assessed(assessment)

    def resume(self) -> list[Action]:
        """What to send again to a client that reconnected in this state: the message
        it needs to carry on (nothing at the Urdu step).

        A feedback not yet acknowledged is not repeated (its assessment is not kept):
        the learner goes on to word-by-word practice, as after ``feedback_complete``."""
        target = self.target
        if target is None:
            return []
        match self.state:
            case State.AWAIT_YOU_SAID_ACK:
                spoken = texts.you_said(self.mode, target.urdu, target.english)
                return [self._showing(Step.YOU_SAID_AUDIO, spoken, True, target)]
            case State.AWAIT_WORD_BY_WORD_ACK if self.attempts == 0:
                spoken = texts.repeat_prompt(self.mode, target.english)
                return [self._showing(Step.REPEAT_PROMPT, spoken, False, target)]
            case State.AWAIT_WORD_BY_WORD_ACK:
                spoken = texts.word_by_word(self.mode, target.english)
                return [self._showing(Step.WORD_BY_WORD, spoken, False, target)]
            case State.AWAIT_FEEDBACK_ACK:
                return self._ack(AckKind.FEEDBACK_COMPLETE)
            case _:
                spoken = texts.full_sentence(self.mode, target.english)
                return [
                    Reply(Step.FULL_SENTENCE_AUDIO, spoken, True, english_sentence=target.english)
                ]

    # --- transitions --------------------------------------------------------

    def _understood(self, target: Target) -> list[Action]:
        actions: list[Action] = []
        if self.target is not None:
            actions.append(CycleEnded(CycleStatus.ABANDONED))
        self._set(target=target, attempts=0, state=State.AWAIT_YOU_SAID_ACK)
        actions.append(CycleStarted(target))
        spoken = texts.you_said(self.mode, target.urdu, target.english)
        actions.append(self._showing(Step.YOU_SAID_AUDIO, spoken, True, target))
        return actions

    def _ack(self, kind: AckKind) -> list[Action]:
        if self.state is not _ACK_STATE[kind] or self.target is None:
            return [Ignored(f"{kind.value} in {self.state.value}")]
        target = self.target
        if kind is AckKind.YOU_SAID_COMPLETE:
            self._set(state=State.AWAIT_WORD_BY_WORD_ACK)
            spoken = texts.repeat_prompt(self.mode, target.english)
            return [self._showing(Step.REPEAT_PROMPT, spoken, False, target)]
        if kind is AckKind.WORD_BY_WORD_COMPLETE:
            self._set(state=State.AWAIT_REPEAT)
            spoken = texts.full_sentence(self.mode, target.english)
            return [Reply(Step.FULL_SENTENCE_AUDIO, spoken, True, english_sentence=target.english)]
        self._set(state=State.AWAIT_WORD_BY_WORD_ACK)
        spoken = texts.word_by_word(self.mode, target.english)
        return [self._showing(Step.WORD_BY_WORD, spoken, False, target)]

    def _assessed(self, assessment: Assessment) -> list[Action]:
        if self.target is None:
            return [Ignored("assessment without a target")]
        english = self.target.english
        attempts = self.attempts + 1
        spoken = feedback(assessment, self.mode)
        verdict = Verdict(passed=assessment.passed, attempt=attempts, assessment=assessment)
        if assessment.passed:
            self._set(state=State.AWAIT_URDU, target=None, attempts=attempts)
            return [
                CycleEnded(CycleStatus.PASSED),
                Reply(Step.AWAIT_NEXT, spoken, True, english_sentence=english, verdict=verdict),
            ]
        self._set(state=State.AWAIT_FEEDBACK_ACK, attempts=attempts)
        return [Reply(Step.FEEDBACK_STEP, spoken, True, english_sentence=english, verdict=verdict)]

    def _next_sentence(self) -> list[Action]:
        if self.target is None:
            return [Ignored(f"next_sentence in {self.state.value}")]
        english = self.target.english
        self._set(state=State.AWAIT_URDU, target=None)
        return [
            CycleEnded(CycleStatus.SKIPPED),
            Reply(
                Step.AWAIT_NEXT,
                texts.skipped(self.mode),
                speak=True,
                english_sentence=english,
                verdict=Verdict(passed=False, skipped=True),
            ),
        ]

    def _error(self, code: ErrorCode) -> Reply:
        spoken = SpokenText.single(
            "ur" if self.mode == "urdu" else "en", texts.error_text(code, self.mode)
        )
        return Reply(Step.ERROR, spoken, speak=False, error=code)

    @staticmethod
    def _showing(step: Step, spoken: SpokenText, speak: bool, target: Target) -> Reply:
        """A reply that shows the whole sentence: both scripts and its words."""
        return Reply(
            step,
            spoken,
            speak,
            english_sentence=target.english,
            urdu_sentence=target.urdu,
            words=target.words,
        )
