"""Parsing client frames: every kind of bad input becomes a clear error event."""

from __future__ import annotations

import base64
import json

import pytest

from ustad.api.messages import parse_binary, parse_text
from ustad.learn.events import Ack, AckKind, InputRejected, NextSentence, SetMode, Utterance
from ustad.vocabulary import ErrorCode

LIMIT = 1024


def codes(events: list[object]) -> list[ErrorCode]:
    return [e.code for e in events if isinstance(e, InputRejected)]


def test_utterance_with_mode_and_hint() -> None:
    raw = json.dumps(
        {
            "audio_base64": base64.b64encode(b"RIFF1234").decode(),
            "language_mode": "english",
            "audio_format": "wav",
        }
    )
    assert parse_text(raw, max_bytes=LIMIT) == [SetMode("english"), Utterance(b"RIFF1234", "wav")]


def test_data_url_and_urlsafe_and_unpadded_base64() -> None:
    payload = bytes(range(250, 256)) * 3
    for encoded in (
        "data:audio/webm;base64," + base64.b64encode(payload).decode(),
        base64.urlsafe_b64encode(payload).decode().rstrip("="),
    ):
        (event,) = parse_text(json.dumps({"audio_base64": encoded}), max_bytes=LIMIT)
        assert event == Utterance(payload)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", ErrorCode.INVALID_JSON),
        ("[1, 2]", ErrorCode.INVALID_JSON),
        ('"text"', ErrorCode.INVALID_JSON),
        ("{}", ErrorCode.NO_AUDIO),
        ('{"audio_base64": ""}', ErrorCode.NO_AUDIO),
        ('{"audio_base64": 12}', ErrorCode.NO_AUDIO),
        ('{"audio_base64": "@@@not base64!!"}', ErrorCode.BAD_BASE64),
        ('{"type": "dance"}', ErrorCode.UNKNOWN_MESSAGE),
        ('{"language_mode": "french"}', ErrorCode.UNKNOWN_MESSAGE),
        ("[" * 100_000, ErrorCode.INVALID_JSON),
    ],
)
def test_bad_text_frames(raw: str, code: ErrorCode) -> None:
    assert codes(parse_text(raw, max_bytes=10**6)) == [code]


def test_too_large_text_and_binary_frames() -> None:
    raw = json.dumps({"audio_base64": "A" * 2000})
    assert codes(parse_text(raw, max_bytes=LIMIT)) == [ErrorCode.MESSAGE_TOO_LARGE]
    assert codes(parse_binary(b"x" * 2000, max_bytes=LIMIT)) == [ErrorCode.MESSAGE_TOO_LARGE]
    assert codes(parse_binary(b"", max_bytes=LIMIT)) == [ErrorCode.NO_AUDIO]


def test_acks_next_sentence_and_mode_only() -> None:
    for kind in AckKind:
        assert parse_text(json.dumps({"type": kind.value}), max_bytes=LIMIT) == [Ack(kind)]
    assert parse_text('{"type": "next_sentence", "language_mode": "urdu"}', max_bytes=LIMIT) == [
        SetMode("urdu"),
        NextSentence(),
    ]
    assert parse_text('{"language_mode": "english"}', max_bytes=LIMIT) == [SetMode("english")]


def test_binary_frame_is_an_utterance() -> None:
    assert parse_binary(b"OggS...", max_bytes=LIMIT) == [Utterance(b"OggS...")]


@pytest.mark.parametrize(
    "raw",
    [
        '{"audio_base64": ' + "9" * 5000 + "}",
        '{"type": "you_said_complete", "n": ' + "1" * 5000 + "}",
        '{"type": ' + "1" * 5000 + "}",
        '{"type": []}',
        '{"type": {"a": 1}}',
        '{"language_mode": ["urdu"]}',
        '{"language_mode": {"x": 1}, "audio_base64": "AAAA"}',
        "[" * 100_000 + "]" * 100_000,
        '{"audio_base64": "AAAA", "audio_format": ' + '"x' * 10 + '"}',
    ],
)
def test_hostile_values_are_a_clear_error_never_an_exception(raw: str) -> None:
    events = parse_text(raw, max_bytes=1 << 20)
    assert events, raw[:40]
    rejected = [e for e in events if isinstance(e, InputRejected)]
    assert rejected or all(isinstance(e, Utterance) for e in events)


def test_a_huge_type_is_cut_in_the_error_detail() -> None:
    (event,) = parse_text(json.dumps({"type": "x" * 1_000_000}), max_bytes=8 << 20)
    assert isinstance(event, InputRejected) and event.code is ErrorCode.UNKNOWN_MESSAGE
    assert event.detail is not None and len(event.detail) < 200
    assert "1000000 long" in event.detail


def test_a_long_format_hint_is_dropped() -> None:
    encoded = base64.b64encode(b"RIFF1234").decode()
    raw = json.dumps({"audio_base64": encoded, "audio_format": "a" * 65})
    assert parse_text(raw, max_bytes=LIMIT) == [Utterance(b"RIFF1234", None)]
