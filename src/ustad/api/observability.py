"""Observability routes: ``/metrics`` for Prometheus, ``/v1/stats`` for people.

Both handlers are ``async def`` on purpose: FastAPI runs plain ``def`` handlers
in a thread pool, but the counters they read (executor, caches, engine calls)
are only ever changed on the event loop thread and are not locked, so they must
be read there too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ustad.api.access import OperatorOnly
from ustad.api.rest import ServicesDep

# With operator keys configured, both need one (they describe the whole service).
router = APIRouter(tags=["observability"], dependencies=[OperatorOnly])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus exposition of this app's registry (format negotiated from ``Accept``)."""
    body, content_type = services.metrics.exposition(request.headers.get("accept", ""))
    return Response(content=body, media_type=content_type)


@router.get("/v1/stats")
async def stats(services: ServicesDep) -> dict[str, Any]:
    """Turns, stage latency percentiles, engine calls, caches, executor, loop lag, process."""
    return services.metrics.stats()
