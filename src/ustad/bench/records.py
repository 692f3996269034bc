"""What a simulated learner records: messages answered, messages not, and why it stopped.

Failures are data, not only error strings: a message sent that got no usable reply
is an :class:`UnservedMessage` with how long the learner waited for it (a lower bound
of its latency), and a learner that stops before its last cycle has one
:class:`Failure`. :func:`classify_failure` turns the exception that stopped it into a
kind and a reason in words; websockets' keepalive timeout (a ping unanswered for
``ping_timeout``) is ``ConnectionClosedError`` with close code 1011 sent by the
client, per the websockets documentation of ``ping_timeout``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

SentKind = Literal[
    "urdu_utterance",
    "english_utterance",
    "you_said_complete",
    "word_by_word_complete",
    "feedback_complete",
    "next_sentence",
]
UTTERANCES: Final = ("urdu_utterance", "english_utterance")
"""Sent kinds that are turns (the server runs the engines on them)."""

CycleOutcome = Literal["passed", "skipped", "urdu_not_understood", "error"]
FailureKind = Literal["refused", "dropped", "timeout", "protocol"]
"""Why a learner stopped early: the connection never opened, it closed under the
learner, a message got no reply within the timeout, or a reply could not be followed."""

BUSY_CODE: Final = "busy"
"""The error ``code`` of a turn refused at admission; the learner says it again
(docs/protocol-notes.md, "Error codes")."""

KEEPALIVE_SECONDS: Final = 20.0
"""websockets' default ping interval and ping timeout, which the bench keeps."""


@dataclass(frozen=True)
class MessageSample:
    """One message sent and how it was answered."""

    learner: int
    cycle: int
    sent: SentKind
    step: str
    """``step`` of the reply (``"none"`` if the connection failed first)."""
    started: float
    """Seconds since the run started, when the message was sent."""
    json_ms: float
    """Send to the JSON frame."""
    audio_ms: float | None
    """Send to the audio frame (``None`` for JSON-only steps)."""
    audio_bytes: int
    server_ms: float | None
    """The server's own ``timings.total`` (utterances only)."""
    clip: str | None
    """The clip sent (utterances only)."""
    code: str | None = None
    """The ``code`` of an ``error`` reply."""
    stages: dict[str, float] = field(default_factory=dict)
    """The server's ``timings`` per stage (utterances only), in ms."""

    @property
    def total_ms(self) -> float:
        """Send to the last frame of the reply: what the learner waited."""
        return self.audio_ms if self.audio_ms is not None else self.json_ms

    @property
    def refused_busy(self) -> bool:
        """Answered ``busy``: refused before any work, so not a served turn."""
        return self.code == BUSY_CODE


def refused_busy(row: Mapping[str, Any]) -> bool:
    """:attr:`MessageSample.refused_busy` of a sample as the results JSON holds it."""
    return row.get("code") == BUSY_CODE


@dataclass(frozen=True)
class UnservedMessage:
    """A message sent that got no usable reply before the learner stopped."""

    learner: int
    cycle: int
    sent: SentKind
    started: float
    """Seconds since the run started, when the message was sent."""
    waited_ms: float
    """Send to the failure: a lower bound of the latency the learner would have seen."""
    kind: FailureKind
    """``timeout``, ``dropped`` or ``protocol`` (a reply of the wrong frame type)."""
    clip: str | None = None


@dataclass(frozen=True)
class Failure:
    """Why a learner stopped before its last cycle."""

    learner: int
    cycle: int
    kind: FailureKind
    reason: str
    """In words, e.g. ``keepalive timeout``, ``closed by the server (1001 going away)``,
    ``no reply within 0.5 s``, ``connection refused``."""
    exception: str
    """The exception's class name, e.g. ``ConnectionClosedError``."""
    close_code: int | None = None
    """The WebSocket close code of a dropped connection (1006 when none was exchanged)."""
    at: float = 0.0
    """Seconds since the run started."""


@dataclass
class CycleRecord:
    """How one cycle went."""

    learner: int
    cycle: int
    outcome: CycleOutcome
    urdu_clips: list[str] = field(default_factory=list)
    """Urdu clips said, in order (more than one if one was not understood)."""
    attempts: int = 0
    seconds: float = 0.0
    english_sentence: str | None = None
    busy_repeats: int = 0
    """Utterances said again after a ``busy`` answer (not counted as tries)."""


@dataclass
class LearnerResult:
    """Everything one learner saw."""

    index: int
    samples: list[MessageSample] = field(default_factory=list)
    cycles: list[CycleRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unserved: list[UnservedMessage] = field(default_factory=list)
    failure: Failure | None = None
    """Set when the learner stopped before its last cycle."""

    @property
    def cycles_completed(self) -> int:
        """Cycles that reached ``await_next`` (passed, or skipped after the attempts)."""
        return sum(c.outcome in ("passed", "skipped") for c in self.cycles)

    def summary(self) -> dict[str, Any]:
        """JSON-ready per-learner summary (the samples are reported in aggregate)."""
        return {
            "index": self.index,
            "cycles_completed": self.cycles_completed,
            "messages": len(self.samples),
            "errors": list(self.errors),
            "failure": None if self.failure is None else asdict(self.failure),
            "unserved": len(self.unserved),
            "cycles": [asdict(c) for c in self.cycles],
        }


class StoppedError(Exception):
    """A reply did not come or cannot be followed; the learner stops."""

    def __init__(self, kind: FailureKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: FailureKind = kind
        self.reason = reason


def _closed_reason(error: ConnectionClosed) -> tuple[str, int]:
    """Words and close code for a connection that closed under the learner."""
    if error.rcvd is not None:
        words = f"{error.rcvd.code} {error.rcvd.reason}".strip()
        return f"closed by the server ({words})", error.rcvd.code
    if error.sent is not None:
        if error.sent.code == 1011 and "keepalive" in error.sent.reason:
            # websockets closes with 1011 when a ping goes unanswered for ping_timeout.
            return "keepalive timeout", 1011
        words = f"{error.sent.code} {error.sent.reason}".strip()
        return f"closed by the learner ({words})", error.sent.code
    return "connection lost without a close frame (1006)", 1006


def classify_failure(error: BaseException, *, opened: bool) -> tuple[FailureKind, str, int | None]:
    """Kind, reason in words and close code of what stopped a learner.

    ``opened`` says whether the WebSocket handshake had completed: anything before it
    is ``refused``.
    """
    if isinstance(error, StoppedError):
        return error.kind, error.reason, None
    if isinstance(error, ConnectionClosed):
        reason, code = _closed_reason(error)
        return "dropped", reason, code
    if not opened:
        if isinstance(error, ConnectionRefusedError):
            return "refused", "connection refused", None
        if isinstance(error, InvalidStatus):
            return "refused", f"handshake refused (HTTP {error.response.status_code})", None
        if isinstance(error, TimeoutError):
            return "refused", "no handshake within the open timeout", None
        if isinstance(error, InvalidHandshake):
            return "refused", f"handshake failed ({error})", None
        return "refused", f"{type(error).__name__}: {error}", None
    if isinstance(error, OSError):
        return "dropped", f"{type(error).__name__}: {error}", None
    return "protocol", f"{type(error).__name__}: {error}", None
