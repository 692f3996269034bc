"""Parsing client frames of ``/ws/learn`` into learn-session events.

Parsing never raises: bad input becomes an ``InputRejected`` event, so the
session answers with an ``error`` step and carries on in its state.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from ustad.learn.events import (
    Ack,
    AckKind,
    Event,
    InputRejected,
    NextSentence,
    SetMode,
    Utterance,
)
from ustad.logs import for_log
from ustad.vocabulary import ErrorCode, LanguageMode

_WHITESPACE = re.compile(r"\s")
_URL_SAFE = re.compile(r"[-_]")

MAX_HINT_CHARS = 64
"""Longest ``audio_format`` hint kept (``audio/webm;codecs=opus`` is 22)."""

_MODES: dict[str, LanguageMode] = {"urdu": "urdu", "english": "english"}
_ACKS = {kind.value: kind for kind in AckKind}


def parse_text(raw: str, *, max_bytes: int) -> list[Event]:
    """Events for one JSON text frame (a ``SetMode`` first when it carries one)."""
    # UTF-8 bytes of the frame, without copying it when it is ASCII (base64 JSON is).
    size = len(raw) if raw.isascii() else len(raw.encode("utf-8"))
    if size > max_bytes:
        return [InputRejected(ErrorCode.MESSAGE_TOO_LARGE)]
    try:
        message: Any = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError also covers integers past Python's 4300-digit conversion limit.
        return [InputRejected(ErrorCode.INVALID_JSON)]
    if not isinstance(message, dict):
        return [InputRejected(ErrorCode.INVALID_JSON, "a message must be a JSON object")]
    events: list[Event] = []
    if "language_mode" in message:
        requested = message["language_mode"]
        mode = _MODES.get(requested.lower()) if isinstance(requested, str) else None
        if mode is None:
            return [InputRejected(ErrorCode.UNKNOWN_MESSAGE, "language_mode: urdu or english")]
        events.append(SetMode(mode))
    kind = message.get("type")
    if kind is not None:
        if isinstance(kind, str) and kind in _ACKS:
            return [*events, Ack(_ACKS[kind])]
        if kind == "next_sentence":
            return [*events, NextSentence()]
        return [*events, InputRejected(ErrorCode.UNKNOWN_MESSAGE, f"type {for_log(kind)}")]
    if "audio_base64" not in message:
        # A message that only switches language_mode is complete in itself.
        if events and set(message) == {"language_mode"}:
            return events
        return [*events, InputRejected(ErrorCode.NO_AUDIO)]
    encoded = message["audio_base64"]
    if not isinstance(encoded, str) or not encoded.strip():
        return [*events, InputRejected(ErrorCode.NO_AUDIO)]
    try:
        audio = _b64decode(encoded)
    except (binascii.Error, ValueError):
        return [*events, InputRejected(ErrorCode.BAD_BASE64)]
    if not audio:
        return [*events, InputRejected(ErrorCode.NO_AUDIO)]
    hint = message.get("audio_format")
    # Only a short hint can name a container; a longer one is dropped, not stored.
    hint = hint if isinstance(hint, str) and len(hint) <= MAX_HINT_CHARS else None
    return [*events, Utterance(audio, hint)]


def parse_binary(data: bytes, *, max_bytes: int) -> list[Event]:
    """A binary frame is one utterance of raw audio bytes."""
    if len(data) > max_bytes:
        return [InputRejected(ErrorCode.MESSAGE_TOO_LARGE)]
    if not data:
        return [InputRejected(ErrorCode.NO_AUDIO)]
    return [Utterance(data)]


def _b64decode(encoded: str) -> bytes:
    """Standard or URL-safe base64, padded or not, bare or in a data URL.

    Browsers send data URLs ("data:audio/webm;base64,...") and some clients use the
    URL-safe alphabet or drop the padding. A frame can be megabytes, so the usual
    case (plain standard base64) is decoded without making copies of the text."""
    payload = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
    if not payload.isascii():
        raise ValueError("base64 is ASCII")
    if _WHITESPACE.search(payload):
        payload = "".join(payload.split())
    if _URL_SAFE.search(payload):
        payload = payload.replace("-", "+").replace("_", "/")
    if len(payload) % 4:
        payload += "=" * (-len(payload) % 4)
    # An ASCII str is read in place (no bytes copy); strict: no stray characters.
    return binascii.a2b_base64(payload, strict_mode=True)
