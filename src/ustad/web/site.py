"""Serving the web client: plain files, no build step.

Asset names carry no content hash, so nothing may be cached blindly: every response
is ``no-cache`` (the browser keeps it but revalidates), and the ETag/Last-Modified
that ``StaticFiles`` sets turn a revalidation into a cheap 304. An upgraded server
is therefore never paired with a stale script.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR: Final = Path(__file__).parent / "static"

REVALIDATE: Final = "no-cache"
# The page loads only its own files; the socket and the REST API are same-origin and
# reply audio is played from blob: URLs made of the binary frames.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS: Final = {
    "Cache-Control": REVALIDATE,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class RevalidatedStaticFiles(StaticFiles):
    """``StaticFiles`` whose responses (200 and 304) say ``Cache-Control: no-cache``."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount_web(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/static/``."""
    if not (STATIC_DIR / "index.html").is_file():
        raise RuntimeError(f"the web client is missing from {STATIC_DIR} (reinstall ustad)")
    static = RevalidatedStaticFiles(directory=STATIC_DIR)

    @app.get("/", include_in_schema=False)
    async def page(request: Request) -> Response:
        # The static handler answers conditional requests (304) for the page too.
        response = await static.get_response("index.html", request.scope)
        response.headers.update(_PAGE_HEADERS)
        return response

    app.mount("/static", static, name="static")
