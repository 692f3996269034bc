"""One simulated learner: whole learn cycles over a real WebSocket.

The learner behaves like the mobile client: it sends an utterance as a JSON frame
with ``audio_base64`` (what the existing client does), waits for the JSON reply
and, on speaking steps, the audio frame that follows, "thinks" (plays the audio,
practises), then sends the acknowledgement or utterance the reply calls for. Which
message comes next is decided from the reply's ``step`` (and ``code``) alone, so the
learner follows whatever path the server takes (an utterance not understood, an attempt
heard as a new Urdu sentence...) instead of assuming one script. A turn answered
``busy`` is said again, as the protocol notes tell a client to (at most
:data:`MAX_BUSY_REPEATS` times).

Each message sent is one :class:`MessageSample`: what was sent, the step that
answered, milliseconds from the send to the JSON frame and to the audio frame. What
went wrong is data too: a message sent that got no (usable) reply is an
:class:`UnservedMessage` with how long the learner waited for it, and a learner that
stops before its last cycle has one :class:`Failure` saying why (connection refused,
dropped, e.g. websockets' keepalive timeout, close code 1011; no reply within the
timeout; a reply the learner cannot follow).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

import websockets
from websockets.exceptions import WebSocketException

from ustad.bench.records import (
    BUSY_CODE,
    KEEPALIVE_SECONDS,
    UTTERANCES,
    CycleOutcome,
    CycleRecord,
    Failure,
    FailureKind,
    LearnerResult,
    MessageSample,
    SentKind,
    StoppedError,
    UnservedMessage,
    classify_failure,
)
from ustad.bench.workload import Clip, CyclePlan, Workload, plan_cycle

__all__ = [
    "KEEPALIVE_SECONDS",
    "UTTERANCES",
    "CycleOutcome",
    "CycleRecord",
    "Failure",
    "FailureKind",
    "LearnerResult",
    "MessageSample",
    "SentKind",
    "SimulatedLearner",
    "UnservedMessage",
    "run_learners",
]

CLOSE_TIMEOUT_SECONDS: Final = 10.0
"""websockets' default wait for the peer's close frame."""
MAX_MESSAGES_PER_CYCLE: Final = 64
"""A cycle that needs more messages than this (not counting utterances said again
after ``busy``) is a protocol loop, not a learner."""
MAX_BUSY_REPEATS: Final = 3
"""Times a learner says the same utterance again after ``busy`` before counting it as
a try that failed (docs/protocol-notes.md: on ``busy`` the learner repeats it)."""

ProgressCallback = Callable[[int, CycleOutcome], None]
"""Called with the learner index and outcome after each cycle."""


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
        keepalive: float | None = KEEPALIVE_SECONDS,
        progress: ProgressCallback | None = None,
    ) -> None:
        """``url`` is the server's base ``ws://host:port``; ``clock_zero`` the run's start.

        ``reply_timeout`` (s) bounds the wait for each frame of a reply; ``keepalive``
        (s) is both the ping interval and the ping timeout (``None``: no pings), and
        bounds the wait for the server's close frame after a drop (at most websockets'
        default 10 s): a learner dropped for a keepalive timeout has waited until then.
        """
        self.index = index
        self.url = url.rstrip("/")
        self.workload = workload
        self.urdu_pool = urdu_pool
        self.learner_pool = learner_pool
        self.clock_zero = clock_zero
        self.reply_timeout = reply_timeout
        self.keepalive = keepalive
        self.progress = progress
        self.result = LearnerResult(index)
        self._thinks = 0
        self._record: CycleRecord | None = None
        """The cycle under way, so that one cut short keeps what it did."""

    async def run(self) -> LearnerResult:
        """Connect, run every cycle, and return what happened (never raises)."""
        # The same UUID for the same simulated learner in every run.
        learner_id = uuid.uuid5(uuid.NAMESPACE_URL, f"ustad-bench/learner/{self.index}")
        query = f"learner_id={learner_id}&language_mode={self.workload.language_mode}"
        cycle = 0
        opened = False
        try:
            async with websockets.connect(
                f"{self.url}/ws/learn?{query}",
                max_size=None,
                open_timeout=60,
                ping_interval=self.keepalive,
                ping_timeout=self.keepalive,
                close_timeout=min(CLOSE_TIMEOUT_SECONDS, self.keepalive or CLOSE_TIMEOUT_SECONDS),
            ) as ws:
                opened = True
                for cycle in range(self.workload.cycles):
                    await self._cycle(ws, cycle)
        except (StoppedError, OSError, TimeoutError, WebSocketException) as error:
            kind, reason, code = classify_failure(error, opened=opened)
            self.result.failure = Failure(
                self.index,
                cycle,
                kind,
                reason,
                type(error).__name__,
                code,
                round(time.perf_counter() - self.clock_zero, 4),
            )
            self.result.errors.append(f"cycle {cycle}: {kind}: {reason} ({type(error).__name__})")
            if not self.result.cycles or self.result.cycles[-1].cycle != cycle:
                record = self._record
                if record is None or record.cycle != cycle:
                    record = CycleRecord(self.index, cycle, "error")
                # Its outcome is still "error": it changes only when a cycle ends.
                self._finish(record)
        return self.result

    async def _cycle(self, ws: websockets.ClientConnection, cycle: int) -> None:
        plan = plan_cycle(
            self.workload,
            self.index,
            cycle,
            urdu_pool=len(self.urdu_pool),
            learner_pool=len(self.learner_pool),
        )
        record = self._record = CycleRecord(self.index, cycle, "error")
        started = time.perf_counter()
        self._thinks = 0
        urdu_tries = 0
        understood = False
        next_kind: SentKind = "urdu_utterance"
        clip: Clip | None = None
        busy_repeats = 0
        # Each message may be said 1 + MAX_BUSY_REPEATS times.
        for _ in range(MAX_MESSAGES_PER_CYCLE * (1 + MAX_BUSY_REPEATS)):
            # Thinking before the very first message too staggers the learners' starts
            # the way real arrivals are, instead of one synchronised burst.
            await asyncio.sleep(self._think(plan))
            if busy_repeats == 0:
                clip = self._clip_for(next_kind, plan, urdu_tries, record.attempts)
                if next_kind == "urdu_utterance":
                    urdu_tries += 1
                    record.urdu_clips.append(clip.name if clip else "?")
                elif next_kind == "english_utterance":
                    record.attempts += 1
            reply = await self._exchange(ws, cycle, next_kind, clip)
            if reply.get("code") == BUSY_CODE and busy_repeats < MAX_BUSY_REPEATS:
                # Nothing changed on the server: the learner says the same thing again.
                busy_repeats += 1
                record.busy_repeats += 1
                continue
            busy_repeats = 0
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
            raise StoppedError(
                "protocol", f"no end to the cycle after {MAX_MESSAGES_PER_CYCLE} messages"
            )
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
        # A send on a connection already closed raises here: nothing left, nothing unserved.
        await ws.send(payload)
        try:
            raw = await asyncio.wait_for(ws.recv(), self.reply_timeout)
            json_at = time.perf_counter()
            if not isinstance(raw, str):
                raise StoppedError(
                    "protocol", f"expected a JSON frame after {kind}, got {len(raw)} bytes"
                )
            try:
                reply: dict[str, Any] = json.loads(raw)
            except ValueError as error:
                raise StoppedError("protocol", f"a reply to {kind} that is not JSON") from error
            audio_at: float | None = None
            audio_bytes = 0
            if "audio_format" in reply:
                audio = await asyncio.wait_for(ws.recv(), self.reply_timeout)
                audio_at = time.perf_counter()
                if not isinstance(audio, bytes):
                    raise StoppedError(
                        "protocol", f"expected an audio frame after {reply.get('step')}"
                    )
                audio_bytes = len(audio)
        except (TimeoutError, OSError, WebSocketException, StoppedError) as error:
            # TimeoutError first: it is an OSError too.
            stop: BaseException = (
                StoppedError("timeout", f"no reply within {self.reply_timeout:g} s")
                if isinstance(error, TimeoutError)
                else error
            )
            failure_kind, _, _ = classify_failure(stop, opened=True)
            self.result.unserved.append(
                UnservedMessage(
                    learner=self.index,
                    cycle=cycle,
                    sent=kind,
                    started=round(sent_at - self.clock_zero, 4),
                    waited_ms=(time.perf_counter() - sent_at) * 1000.0,
                    kind=failure_kind,
                    clip=clip.name if clip else None,
                )
            )
            if stop is not error:
                raise stop from error
            raise
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
    keepalive: float | None = KEEPALIVE_SECONDS,
    progress: ProgressCallback | None = None,
) -> tuple[list[LearnerResult], float]:
    """Run ``workload.learners`` learners at once; their results and the wall seconds.

    ``reply_timeout`` and ``keepalive`` are in seconds (see :class:`SimulatedLearner`).
    """
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
            keepalive=keepalive,
            progress=progress,
        )
        for i in range(workload.learners)
    ]
    results = await asyncio.gather(*(learner.run() for learner in learners))
    return list(results), time.perf_counter() - clock_zero
