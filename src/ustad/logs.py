"""Logging set-up: plain text for people, one JSON object per line for shippers."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


_SECRET_PARAMETER = re.compile(r"(?i)\b(token|access_token|resume_token)=[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Masks ``token=...`` and ``resume_token=...`` in every log line: browsers put the
    learner's token and the session's resume token in the WebSocket URL, and uvicorn
    logs each URL it accepts."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg = _SECRET_PARAMETER.sub(r"\1=[redacted]", message)
            record.args = None
        return True


def for_log(value: object, limit: int = 80) -> str:
    """A client-supplied value as it may appear in a log line.

    Text is shown as its ``repr`` (so NUL, CR and LF cannot forge lines) of at most
    ``limit`` characters plus its full length, so a megabyte sent is never a megabyte
    logged; numbers and ``None`` as themselves; anything else only by its type."""
    if isinstance(value, str | bytes):
        shown = repr(value[:limit])
        return shown if len(value) <= limit else f"{shown}... ({len(value)} long)"
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() < 64 else "<a very large integer>"
    return f"<{type(value).__name__}>"


class JsonFormatter(logging.Formatter):
    """Each record as a JSON line, with any ``extra=`` fields kept as fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` with ``extra=`` fields appended."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(
                f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in extras.items()
            )
        return line


QUIET_LOGGERS = ("httpx", "httpcore")
"""Libraries whose INFO lines are one per request with the full URL (a provider's base
URL, or anything a misconfigured one holds): at WARNING whatever the level asked."""


def configure_logging(level: str, *, json_lines: bool) -> None:
    """Route the root logger to stderr in the chosen format (``QUIET_LOGGERS`` at
    WARNING at most)."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
