"""One simulated learner: whole learn cycles over a real WebSocket.

The learner behaves like the mobile client: it sends an utterance as a JSON frame
with ``audio_base64`` (what the existing client does), waits for the JSON reply
and, on speaking steps, the audio frame that follows, "thinks" (plays the audio,
practises), then sends the acknowledgement or utterance the reply calls for. Which
message comes next is decided from the reply's ``step`` alone, so the learner
follows whatever path the server takes (an utterance not understood, an attempt
heard as a new Urdu sentence...) instead of assuming one script.

Each message sent is one :class:`MessageSample`: what was sent, the step that
answered, milliseconds from the send to the JSON frame and to the audio frame.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import websockets
from websockets.exceptions import WebSocketException

from ustad.bench.workload import Clip, CyclePlan, Workload, plan_cycle

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

MAX_MESSAGES_PER_CYCLE: Final = 64
"""A cycle that needs more messages than this is a protocol loop, not a learner."""

ProgressCallback = Callable[[int, CycleOutcome], None]
"""Called with the learner index and outcome after each cycle."""


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


@dataclass
class LearnerResult:
    """Everything one learner saw."""

    index: int
    samples: list[MessageSample] = field(default_factory=list)
    cycles: list[CycleRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

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
            "cycles": [asdict(c) for c in self.cycles],
        }


class _StoppedError(Exception):
    """The connection broke or a reply did not come; the learner stops."""


class SimulatedLearner:
    """A learner running ``workload.cycles`` cycles on one connection."""

    def __init__(
        self,
        index: int,
        *,
        url: str,
        workload: Workload,
        urdu_pool: Sequence[Clip],
        learner_pool: Sequence[Clip],
        clock_zero: float,
        reply_timeout: float = 300.0,
        progress: ProgressCallback | None = None,
    ) -> None:
        """``url`` is the server's base ``ws://host:port``; ``clock_zero`` the run's start."""
        self.index = index
        self.url = url.rstrip("/")
        self.workload = workload
        self.urdu_pool = urdu_pool
        self.learner_pool = learner_pool
        self.clock_zero = clock_zero
        self.reply_timeout = reply_timeout
        self.progress = progress
        self.result = LearnerResult(index)
        self._thinks = 0

    async def run(self) -> LearnerResult:
        """Connect, run every cycle, and return what happened (never raises)."""
        # The same UUID for the same simulated learner in every run.
        learner_id = uuid.uuid5(uuid.NAMESPACE_URL, f"ustad-bench/learner/{self.index}")
        query = f"learner_id={learner_id}&language_mode={self.workload.language_mode}"
        cycle = 0
        try:
            async with websockets.connect(
                f"{self.url}/ws/learn?{query}", max_size=None, open_timeout=60
            ) as ws:
                for cycle in range(self.workload.cycles):
                    await self._cycle(ws, cycle)
        except (_StoppedError, OSError, TimeoutError, WebSocketException) as error:
            self.result.errors.append(f"cycle {cycle}: {type(error).__name__}: {error}")
            if not self.result.cycles or self.result.cycles[-1].cycle != cycle:
                self._finish(CycleRecord(self.index, cycle, "error"))
        return self.result

    async def _cycle(self, ws: websockets.ClientConnection, cycle: int) -> None:
        plan = plan_cycle(
            self.workload,
            self.index,
            cycle,
            urdu_pool=len(self.urdu_pool),
            learner_pool=len(self.learner_pool),
        )
        record = CycleRecord(self.index, cycle, "error")
        started = time.perf_counter()
        self._thinks = 0
        urdu_tries = 0
        understood = False
        next_kind: SentKind = "urdu_utterance"
        for _ in range(MAX_MESSAGES_PER_CYCLE):
            # Thinking before the very first message too staggers the learners' starts
            # the way real arrivals are, instead of one synchronised burst.
            await asyncio.sleep(self._think(plan))
            clip = self._clip_for(next_kind, plan, urdu_tries, record.attempts)
            if next_kind == "urdu_utterance":
                urdu_tries += 1
                record.urdu_clips.append(clip.name if clip else "?")
            elif next_kind == "english_utterance":
                record.attempts += 1
            reply = await self._exchange(ws, cycle, next_kind, clip)
            step = str(reply.get("step"))
            if step == "you_said_audio":
                understood = True
                record.english_sentence = reply.get("english_sentence")
                next_kind = "you_said_complete"
            elif step in ("repeat_prompt", "word_by_word"):
                next_kind = "word_by_word_complete"
            elif step == "full_sentence_audio":
                next_kind = self._attempt_or_skip(record)
            elif step == "feedback_step":
                more = record.attempts < self.workload.attempts
                next_kind = "feedback_complete" if more else "next_sentence"
            elif step == "await_next":
                record.outcome = "skipped" if reply.get("skipped") else "passed"
                break
            elif not understood:
                # no_speech, english_input_edge_case or an error at the Urdu step:
                # the learner says another sentence, a bounded number of times.
                if urdu_tries > self.workload.urdu_retries:
                    record.outcome = "urdu_not_understood"
                    break
                next_kind = "urdu_utterance"
            else:
                # Not heard at the repeat step: that attempt is spent, try again or skip.
                next_kind = self._attempt_or_skip(record)
        else:
            record.seconds = round(time.perf_counter() - started, 3)
            self._finish(record)
            # The session's state is unknown now: later cycles would measure nonsense.
            raise _StoppedError(f"no end to the cycle after {MAX_MESSAGES_PER_CYCLE} messages")
        record.seconds = round(time.perf_counter() - started, 3)
        self._finish(record)

    def _attempt_or_skip(self, record: CycleRecord) -> SentKind:
        if record.attempts < self.workload.attempts:
            return "english_utterance"
        return "next_sentence"

    def _think(self, plan: CyclePlan) -> float:
        seconds = plan.think[self._thinks % len(plan.think)]
        self._thinks += 1
        return seconds

    def _clip_for(
        self, kind: SentKind, plan: CyclePlan, urdu_tries: int, attempts: int
    ) -> Clip | None:
        if kind == "urdu_utterance":
            return self.urdu_pool[plan.urdu[min(urdu_tries, len(plan.urdu) - 1)]]
        if kind == "english_utterance":
            return self.learner_pool[plan.english[min(attempts, len(plan.english) - 1)]]
        return None

    def _finish(self, record: CycleRecord) -> None:
        self.result.cycles.append(record)
        if self.progress is not None:
            self.progress(self.index, record.outcome)

    async def _exchange(
        self, ws: websockets.ClientConnection, cycle: int, kind: SentKind, clip: Clip | None
    ) -> dict[str, Any]:
        """Send one message, wait for its reply (and audio), record the sample."""
        if clip is not None:
            payload = json.dumps(
                {
                    "audio_base64": base64.b64encode(clip.data).decode("ascii"),
                    "audio_format": clip.format,
                    "language_mode": self.workload.language_mode,
                }
            )
        else:
            payload = json.dumps({"type": kind})
        sent_at = time.perf_counter()
        try:
            await ws.send(payload)
            raw = await asyncio.wait_for(ws.recv(), self.reply_timeout)
            json_at = time.perf_counter()
            if not isinstance(raw, str):
                raise _StoppedError(f"expected a JSON frame after {kind}, got {len(raw)} bytes")
            reply: dict[str, Any] = json.loads(raw)
            audio_at: float | None = None
            audio_bytes = 0
            if "audio_format" in reply:
                audio = await asyncio.wait_for(ws.recv(), self.reply_timeout)
                audio_at = time.perf_counter()
                if not isinstance(audio, bytes):
                    raise _StoppedError(f"expected an audio frame after {reply.get('step')}")
                audio_bytes = len(audio)
        except TimeoutError as error:
            raise _StoppedError(f"no reply to {kind} within {self.reply_timeout:.0f} s") from error
        timings = reply.get("timings") or {}
        server_ms = timings.get("total") if kind in UTTERANCES else None
        self.result.samples.append(
            MessageSample(
                learner=self.index,
                cycle=cycle,
                sent=kind,
                step=str(reply.get("step")),
                started=round(sent_at - self.clock_zero, 4),
                json_ms=(json_at - sent_at) * 1000.0,
                audio_ms=None if audio_at is None else (audio_at - sent_at) * 1000.0,
                audio_bytes=audio_bytes,
                server_ms=float(server_ms) if isinstance(server_ms, int | float) else None,
                clip=clip.name if clip else None,
                code=str(reply["code"]) if "code" in reply else None,
                stages={
                    str(k): float(v)
                    for k, v in timings.items()
                    if kind in UTTERANCES and isinstance(v, int | float)
                },
            )
        )
        return reply


async def run_learners(
    url: str,
    workload: Workload,
    urdu_pool: Sequence[Clip],
    learner_pool: Sequence[Clip],
    *,
    reply_timeout: float = 300.0,
    progress: ProgressCallback | None = None,
) -> tuple[list[LearnerResult], float]:
    """Run ``workload.learners`` learners at once; their results and the wall seconds."""
    clock_zero = time.perf_counter()
    learners = [
        SimulatedLearner(
            i,
            url=url,
            workload=workload,
            urdu_pool=urdu_pool,
            learner_pool=learner_pool,
            clock_zero=clock_zero,
            reply_timeout=reply_timeout,
            progress=progress,
        )
        for i in range(workload.learners)
    ]
    results = await asyncio.gather(*(learner.run() for learner in learners))
    return list(results), time.perf_counter() - clock_zero
