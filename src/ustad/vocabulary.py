"""The words a turn is described in, defined once for every layer.

The state machine, the turn processor, the store and the wire all use these
types, so a value one of them produces is always one the others accept: a turn's
kind is a ``TurnKind`` (never a free string such as ``"repeat"``), and the error
code a turn is stored with is the ``ErrorCode`` its client received. This module
imports nothing from ustad, so any layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

LanguageMode = Literal["urdu", "english"]
"""The language of the tutor's instructions (``language_mode`` on the wire)."""


class TurnKind(StrEnum):
    """Which step of the learn cycle an utterance answered."""

    URDU_STEP = "urdu"
    """The learner says a sentence in Urdu (or a new one instead of a repeat)."""
    ENGLISH_REPEAT = "english"
    """The learner repeats the target sentence in English."""


class ErrorCode(StrEnum):
    """The ``code`` of an ``error`` reply, as sent and as stored."""

    INVALID_JSON = "invalid_json"
    NO_AUDIO = "no_audio"
    BAD_BASE64 = "bad_base64"
    UNDECODABLE_AUDIO = "undecodable_audio"
    NO_VALID_AUDIO = "no_valid_audio"
    """Audio that decoded but gave nothing usable (e.g. no translation could be had)."""
    AUDIO_TOO_LONG = "audio_too_long"
    MESSAGE_TOO_LARGE = "message_too_large"
    UNKNOWN_MESSAGE = "unknown_message"
    BUSY = "busy"
    INTERNAL = "internal_error"


class Step(StrEnum):
    """The ``step`` of a server message (protocol.md)."""

    NO_SPEECH = "no_speech"
    ENGLISH_INPUT_EDGE_CASE = "english_input_edge_case"
    YOU_SAID_AUDIO = "you_said_audio"
    REPEAT_PROMPT = "repeat_prompt"
    FULL_SENTENCE_AUDIO = "full_sentence_audio"
    AWAIT_NEXT = "await_next"
    FEEDBACK_STEP = "feedback_step"
    WORD_BY_WORD = "word_by_word"
    ERROR = "error"


class CycleStatus(StrEnum):
    """Where a learn cycle (one target sentence) stands."""

    ACTIVE = "active"
    PASSED = "passed"
    SKIPPED = "skipped"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class LanguageGuess:
    """A spoken-language identification.

    ``language`` is the most likely ISO 639-1 code (Whisper's codes, e.g. ``ur``,
    ``hi``, ``en``), ``probability`` its probability (0-1), and ``distribution`` the
    probability of every language the model scored (summing to about 1).
    """

    language: str
    probability: float
    distribution: Mapping[str, float] = field(default_factory=dict)

    def share(self, languages: tuple[str, ...] | list[str]) -> float:
        """Total probability of ``languages`` (e.g. Urdu + Hindi), 0-1.

        Falls back to ``probability`` for the top language when the distribution
        is empty (an engine that reports only its best guess)."""
        if not self.distribution:
            return self.probability if self.language in languages else 0.0
        return sum(self.distribution.get(code, 0.0) for code in languages)
