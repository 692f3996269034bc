"""Server messages of ``/ws/learn`` as JSON: the only place that names their keys.

The keys are protocol.md's plus what ustad adds (docs/protocol-notes.md):
``turn_id``, ``timings``, ``assessment``, ``audio_format``, ``audio_bytes``,
``audio_url``, the error ``code`` and ``resume_token``; and one message of its own,
``session``, the first answer to a connection that asked to resume. A part a reply
does not carry is left out.
"""

from __future__ import annotations

from typing import Any

from ustad.learn.session import ServerMessage
from ustad.vocabulary import LanguageMode


def session_json(
    *, resumed: bool, reason: str | None, language_mode: LanguageMode, resume_token: str | None
) -> dict[str, Any]:
    """The ``session`` message: whether the session asked for was resumed (else
    ``reason``: ``malformed``, ``unknown`` or ``unavailable``). JSON only."""
    out: dict[str, Any] = {"step": "session", "response": "", "resumed": resumed}
    if reason is not None:
        out["reason"] = reason
    out["language_mode"] = language_mode
    if resume_token is not None:
        out["resume_token"] = resume_token
    return out


def message_json(message: ServerMessage, resume_token: str | None = None) -> dict[str, Any]:
    """The JSON object of one server message (``resume_token``: the connection's)."""
    reply = message.reply
    out: dict[str, Any] = {"step": reply.step.value, "response": reply.spoken.text}
    if reply.error is not None:
        out["code"] = reply.error.value
    if reply.detected_language is not None:
        out["detected_language"] = reply.detected_language
    verdict = reply.verdict
    if verdict is not None:
        out["is_true"] = verdict.passed
        if verdict.skipped:
            out["skipped"] = True
    if reply.english_sentence is not None:
        out["english_sentence"] = reply.english_sentence
    if reply.urdu_sentence is not None:
        out["urdu_sentence"] = reply.urdu_sentence
    if reply.words is not None:
        out["words"] = list(reply.words)
    if verdict is not None:
        if verdict.attempt is not None:
            out["attempt"] = verdict.attempt
        if verdict.assessment is not None:
            out["assessment"] = verdict.assessment.to_dict()
    out["language_mode"] = message.language_mode
    audio = message.audio
    if audio is not None:
        if audio.url is not None:
            out["audio_url"] = audio.url
        out["audio_format"] = audio.format
        out["audio_bytes"] = audio.bytes
    if message.turn_id is not None:
        out["turn_id"] = message.turn_id
    out["timings"] = dict(message.timings)
    if resume_token is not None:
        out["resume_token"] = resume_token
    return out
