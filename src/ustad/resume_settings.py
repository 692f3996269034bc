"""Settings of resumable learn sessions (``USTAD_RESUME__*``).

A learner whose connection drops may reconnect, to any worker that shares the resume
store, with the ``resume_token`` of its last server message and continue the same cycle
(docs/protocol-notes.md, "Resuming a session").
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ResumeSettings(BaseModel):
    """How long, and how many, dropped sessions are kept for resuming."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    enabled: bool = True
    """Give every server message a ``resume_token`` and accept ``?resume_token=``;
    off, every connection is a new session as before."""
    ttl_seconds: int = Field(default=300, ge=1, le=86_400)
    """How long after its last message a session may still be resumed (seconds)."""
    max_entries: int = Field(default=10_000, ge=1, le=1_000_000)
    """Sessions kept for resuming in one process when no Redis is configured (the oldest
    are forgotten first); with Redis the TTL alone bounds them."""
