"""``GET /v1/audio/{digest}.{ext}``: stored reply audio, cacheable forever.

The name is the SHA-256 of the bytes, so what a URL points at can never change:
browsers and CDNs may keep it for a year without asking again (``immutable``),
the digest itself is the strong ETag, and a revalidation is a 304. Only names of
the exact digest form are ever turned into a path (no traversal is expressible),
and the store verifies the bytes against the digest before they are served, so a
damaged file is a 404 rather than a year of bad audio in someone's cache.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ustad.api.errors import ApiError
from ustad.api.rest import ServicesDep
from ustad.runtime.audio_store import FORMATS, is_digest
from ustad.runtime.audio_urls import AUDIO_ROUTE
from ustad.speech.audio import MEDIA_TYPES

router = APIRouter()

IMMUTABLE: Final = "public, max-age=31536000, immutable"
_RANGE_RE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")


@router.get(AUDIO_ROUTE)
@router.head(AUDIO_ROUTE, operation_id="stored_audio_head")  # an OpenAPI id of its own
async def stored_audio(services: ServicesDep, request: Request, digest: str, ext: str) -> Response:
    """A stored reply by content digest (Range and If-None-Match supported)."""
    fmt = next((f for f in FORMATS if f == ext), None)
    if fmt is None or not is_digest(digest):
        raise ApiError(400, "expected /v1/audio/<sha256 hex>.<mp3|opus|wav>", "bad_audio_name")
    store = services.speech.store
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if store is None:
        return _not_found()
    if _etag_matches(request.headers.get("if-none-match"), etag):
        # RFC 9110: a 304 only for a representation that still exists.
        if await store.exists(digest, fmt):
            return Response(status_code=304, headers=headers)
        return _not_found()
    data = await store.read(digest, fmt)
    if data is None:
        return _not_found()
    media_type = MEDIA_TYPES[fmt]
    if_range = request.headers.get("if-range")
    byte_range = request.headers.get("range")
    if byte_range is None or (if_range is not None and if_range.strip() != etag):
        return Response(data, media_type=media_type, headers=headers)
    try:
        span = _parse_range(byte_range, len(data))
    except _UnsatisfiableRangeError:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return Response(status_code=416, headers=headers)
    if span is None:
        return Response(data, media_type=media_type, headers=headers)  # ignored, as allowed
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start : end + 1], status_code=206, media_type=media_type, headers=headers)


def _not_found() -> Response:
    response = ApiError(404, "no such stored audio", "audio_not_found").response()
    # A CDN must not remember the absence: the audio may be generated later.
    response.headers["Cache-Control"] = "no-store"
    return response


def _etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` uses the weak comparison: ``W/`` prefixes do not matter."""
    if header is None:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


class _UnsatisfiableRangeError(Exception):
    """The range lies past the end of the audio (answered 416)."""


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One byte range as inclusive ``(start, end)``, or ``None`` for anything else
    (several ranges, other units, malformed), which means "send it all"."""
    match = _RANGE_RE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _UnsatisfiableRangeError
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        raise _UnsatisfiableRangeError
    return start, end
