"""The web client's reconnect logic (js/socket.js) under Node, with a fake WebSocket:
it presents the latest resume_token, backs off a bounded number of times, and does not
fight a newer connection that took the session over."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SOCKET_JS = Path(__file__).resolve().parents[2] / "src" / "ustad" / "web" / "static" / "js"

SCRIPT = """
const { TutorSocket, nextRetry, MAX_TRIES, SUPERSEDED } = await import(process.argv.at(-1));
const sockets = [];
class FakeWebSocket extends EventTarget {
  static OPEN = 1;
  constructor(url) { super(); this.url = url; this.readyState = 0; sockets.push(this); }
  send() {}
}
globalThis.WebSocket = FakeWebSocket;
const timers = [];
globalThis.setTimeout = (callback, ms) => { timers.push({ callback, ms }); return timers.length; };
globalThis.clearTimeout = () => {};
globalThis.location = { host: "example", protocol: "http:" };

const urls = [];
const closes = [];
const socket = new TutorSocket((token) => { urls.push(token); return "ws://example/ws/learn"; });
socket.addEventListener("close", (event) => closes.push(event.detail));
const close = (ws, code) => ws.dispatchEvent(Object.assign(new Event("close"), { code }));
const say = (ws, message) =>
  ws.dispatchEvent(Object.assign(new Event("message"), { data: JSON.stringify(message) }));

socket.connect();
say(sockets[0], { step: "you_said_audio", response: "", resume_token: "T1" });
close(sockets[0], 1006);
timers.shift().callback();
say(sockets[1], { step: "session", resumed: true, resume_token: "T2" });
const resumedWith = socket.resumedWith;
close(sockets[1], SUPERSEDED);
const scheduledAfterSuperseded = timers.length;
socket.reconnectNow();
for (let i = 0; i < MAX_TRIES + 2; i += 1) {
  close(sockets[sockets.length - 1], 1006);
  const timer = timers.shift();
  if (timer) timer.callback();
}
console.log(JSON.stringify({
  urls, closes, resumedWith, scheduledAfterSuperseded,
  retries: [nextRetry(1006, 0, () => 0), nextRetry(1006, 3, () => 0.5), nextRetry(1006, 7, () => 1),
            nextRetry(1006, MAX_TRIES, () => 0), nextRetry(SUPERSEDED, 0, () => 0)],
}));
"""


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "--input-type=module", "-", (SOCKET_JS / "socket.js").as_uri()],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_reconnect_presents_the_latest_token(run: dict[str, Any]) -> None:
    assert run["urls"][:2] == [None, "T1"]
    assert run["resumedWith"] == "T1"


def test_a_superseded_connection_waits_for_the_learner_and_starts_afresh(
    run: dict[str, Any],
) -> None:
    assert run["closes"][1] == {"retryInMs": None, "superseded": True}
    assert run["scheduledAfterSuperseded"] == 0
    assert run["urls"][2] is None  # the spent token is not presented again


def test_reconnects_back_off_and_stop_after_a_bounded_number_of_tries(
    run: dict[str, Any],
) -> None:
    assert run["retries"] == [1000, 8800, 9600, None, None]
    later = run["closes"][2:]
    scheduled = [close["retryInMs"] for close in later]
    assert None in scheduled
    assert all(delay is None for delay in scheduled[scheduled.index(None) :])
