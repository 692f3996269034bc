"""A learner answered ``busy`` says the same thing again, a bounded number of times.

The server here is a scripted WebSocket endpoint, not ustad: it answers ``busy`` on
demand, which ustad's admission control does only under real overload.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from ustad.bench.learner import MAX_BUSY_REPEATS, run_learners
from ustad.bench.workload import Clip, Workload, plan_cycle

ONCE = Workload(learners=1, cycles=1, think_time=0.0, synthetic_urdu=0, attempts=1)
BUSY = {"step": "error", "code": "busy", "response": "The tutor is busy right now."}


@dataclass
class Script:
    """How many of each utterance kind to answer ``busy`` before serving it."""

    busy: dict[str, int]
    drop_at: str | None = None
    """Close the connection instead of answering this kind."""
    received: list[tuple[str, str | None]] = field(default_factory=list)


def _serve(kind: str) -> dict[str, Any]:
    return {
        "urdu_utterance": {"step": "you_said_audio", "english_sentence": "Hello."},
        "you_said_complete": {"step": "repeat_prompt"},
        "word_by_word_complete": {"step": "full_sentence_audio"},
        "english_utterance": {"step": "await_next", "skipped": False},
    }[kind]


def _handler(script: Script) -> Callable[[ServerConnection], Any]:
    async def handle(ws: ServerConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            utterance = "urdu_utterance" if _urdu_step(script) else "english_utterance"
            kind = message.get("type") or utterance
            script.received.append((kind, message.get("audio_base64")))
            if kind == script.drop_at:
                await ws.close()
                return
            if kind.endswith("_utterance") and script.busy.get(kind, 0) > 0:
                script.busy[kind] -= 1
                await ws.send(json.dumps(BUSY))
                continue
            reply = _serve(kind)
            speaks = reply["step"] in ("you_said_audio", "full_sentence_audio", "await_next")
            if speaks:
                reply["audio_format"] = "mp3"
            await ws.send(json.dumps(reply))
            if speaks:
                await ws.send(b"\xff\xfb" + bytes(100))

    return handle


def _urdu_step(script: Script) -> bool:
    """Before the first ``you_said_complete``, an utterance is the Urdu one."""
    return all(kind != "you_said_complete" for kind, _ in script.received)


@asynccontextmanager
async def _scripted(script: Script) -> AsyncIterator[str]:
    async with serve(_handler(script), "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_busy_is_answered_by_saying_the_same_thing_again(
    real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    script = Script(busy={"urdu_utterance": 2, "english_utterance": 1})
    async with _scripted(script) as url:
        [result], _ = await run_learners(url, ONCE, real_urdu, learner_clips_pool[:5])
    assert result.errors == []
    [cycle] = result.cycles
    assert cycle.outcome == "passed"
    # Neither refusal spent a try: one Urdu clip, one attempt, three repeats.
    assert len(cycle.urdu_clips) == 1 and cycle.attempts == 1
    assert cycle.busy_repeats == 3
    # The same clip each time: the one the plan gives the first try and first attempt.
    plan = plan_cycle(ONCE, 0, 0, urdu_pool=len(real_urdu), learner_pool=5)
    urdu_clip = base64.b64encode(real_urdu[plan.urdu[0]].data).decode("ascii")
    english_clip = base64.b64encode(learner_clips_pool[plan.english[0]].data).decode("ascii")
    sent = {
        kind: [audio for k, audio in script.received if k == kind]
        for kind in ("urdu_utterance", "english_utterance")
    }
    assert sent == {"urdu_utterance": [urdu_clip] * 3, "english_utterance": [english_clip] * 2}
    codes = [s.code for s in result.samples if s.sent.endswith("_utterance")]
    assert codes == ["busy", "busy", None, "busy", None]


async def test_a_server_busy_every_time_costs_the_learner_its_tries(
    real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    script = Script(busy={"urdu_utterance": 1000})
    workload = replace(ONCE, urdu_retries=1)
    async with _scripted(script) as url:
        [result], _ = await run_learners(url, workload, real_urdu, learner_clips_pool[:5])
    [cycle] = result.cycles
    assert cycle.outcome == "urdu_not_understood"
    # Each of the two tries is said 1 + MAX_BUSY_REPEATS times, then given up.
    assert len(cycle.urdu_clips) == 2
    assert len(script.received) == 2 * (1 + MAX_BUSY_REPEATS)
    assert cycle.busy_repeats == 2 * MAX_BUSY_REPEATS


async def test_a_cycle_cut_short_keeps_what_it_did(
    real_urdu: list[Clip], learner_clips_pool: list[Clip]
) -> None:
    script = Script(busy={"urdu_utterance": 1}, drop_at="english_utterance")
    async with _scripted(script) as url:
        [result], _ = await run_learners(url, ONCE, real_urdu, learner_clips_pool[:5])
    assert result.failure is not None and result.failure.kind == "dropped"
    [cycle] = result.cycles
    assert cycle.outcome == "error"
    assert (len(cycle.urdu_clips), cycle.attempts, cycle.busy_repeats) == (1, 1, 1)
