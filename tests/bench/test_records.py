"""Why a learner stopped: exceptions turned into a kind, words and a close code."""

from __future__ import annotations

from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidURI
from websockets.frames import Close

from ustad.bench.records import StoppedError, classify_failure


def test_keepalive_timeout_is_a_drop_with_code_1011() -> None:
    error = ConnectionClosedError(None, Close(1011, "keepalive ping timeout"))
    assert classify_failure(error, opened=True) == ("dropped", "keepalive timeout", 1011)


def test_a_close_from_the_server_names_its_code_and_reason() -> None:
    error = ConnectionClosedOK(Close(1001, "going away"), Close(1001, ""), True)
    assert classify_failure(error, opened=True) == (
        "dropped",
        "closed by the server (1001 going away)",
        1001,
    )
    lost = ConnectionClosedError(None, None)
    assert classify_failure(lost, opened=True) == (
        "dropped",
        "connection lost without a close frame (1006)",
        1006,
    )


def test_before_the_handshake_everything_is_refused() -> None:
    assert classify_failure(ConnectionRefusedError(), opened=False) == (
        "refused",
        "connection refused",
        None,
    )
    assert classify_failure(TimeoutError(), opened=False)[0] == "refused"
    assert classify_failure(InvalidURI("x", "bad"), opened=False)[0] == "refused"


def test_timeouts_and_protocol_errors_keep_their_kind() -> None:
    assert classify_failure(StoppedError("timeout", "no reply within 0.5 s"), opened=True) == (
        "timeout",
        "no reply within 0.5 s",
        None,
    )
    assert classify_failure(ConnectionResetError("reset"), opened=True)[0] == "dropped"
    assert classify_failure(InvalidURI("x", "bad"), opened=True)[0] == "protocol"
