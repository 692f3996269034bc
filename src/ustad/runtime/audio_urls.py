"""Where a stored reply can be fetched: ``/v1/audio/<sha256>.<ext>``.

The path is built from the content digest, so the bytes behind a URL never change
(the route in ``api/audio_files.py`` serves it as immutable).
"""

from __future__ import annotations

from ustad.runtime.audio_store import StoredAudio

AUDIO_ROUTE = "/v1/audio/{digest}.{ext}"
"""The route that serves stored replies (FastAPI path syntax)."""


def audio_path(audio: StoredAudio) -> str:
    """The path serving ``audio``, e.g. ``/v1/audio/<64 hex>.mp3``."""
    return AUDIO_ROUTE.format(digest=audio.digest, ext=audio.format)


def audio_url(base_url: str | None, audio: StoredAudio) -> str:
    """``audio_url`` for a message: relative, or under ``base_url`` (e.g. a CDN origin)."""
    return f"{(base_url or '').rstrip('/')}{audio_path(audio)}"
