"""The FastAPI application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ustad import __version__
from ustad.api.access import router as access_router
from ustad.api.admission import RestSlots, SessionSlots
from ustad.api.audio_files import router as audio_files_router
from ustad.api.auth import Gatekeeper
from ustad.api.body_limits import BodyLimit, BodyLimitMiddleware
from ustad.api.errors import ApiError
from ustad.api.learn_socket import router as learn_router
from ustad.api.observability import router as observability_router
from ustad.api.openai_audio import router as openai_audio_router
from ustad.api.openai_compat import (
    openai_http_error,
    openai_server_error,
    openapi_without_422,
    validation_param,
    validation_status,
)
from ustad.api.openai_compat import router as openai_models_router
from ustad.api.progress import router as progress_router
from ustad.api.rate_limits import RateLimitMiddleware, RateLimits
from ustad.api.rest import router as rest_router
from ustad.api.shared_slots import SharedSessionCap
from ustad.api.shutdown import drain_on_sigterm
from ustad.api.worker_header import WorkerHeaderMiddleware, worker_name
from ustad.learn.pregeneration import start_phrase_pregeneration
from ustad.logs import configure_logging
from ustad.runtime.redis_tier import SharedLimitStats
from ustad.runtime.resume_store import resume_store
from ustad.services import Services, build_services
from ustad.settings import Settings
from ustad.tutor.texts import fixed_replies, fixed_segments
from ustad.web.site import mount_web

log = logging.getLogger(__name__)

ServicesFactory = Callable[[Settings], Awaitable[Services]]


def create_app(
    settings: Settings | None = None, *, services_factory: ServicesFactory | None = None
) -> FastAPI:
    """Build the app; its lifespan creates the services (tests pass their own factory)."""
    resolved = (settings or Settings()).effective()
    factory = services_factory or build_services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        services = await factory(resolved)
        app.state.services = services
        # Shared by the workers when they share a Redis, else kept in this process.
        app.state.resume_store = (
            resume_store(
                services.redis,
                resolved.redis.key_prefix,
                resolved.resume.ttl_seconds,
                resolved.resume.max_entries,
            )
            if resolved.resume.enabled
            else None
        )
        # Replays, in the background, whatever a previous process left in the outbox.
        await services.outbox.start()
        session_cap = share_limits(app, services, resolved)
        if resolved.runtime.pregenerate:
            await pregenerate(services)
        log.info("ustad %s ready in %.1f s", __version__, time.perf_counter() - started)
        # Measured from here on: start-up work is expected to occupy the loop.
        await services.metrics.loop_monitor.start()
        # Phrase prompts to disk in the background: readiness does not wait for it.
        phrase_job = start_phrase_pregeneration(
            services.speech, services.phrases, resolved.audio_store
        )
        restore_sigterm = drain_on_sigterm(app.state.session_slots, resolved.server.drain_seconds)
        try:
            yield
        finally:
            restore_sigterm()
            if phrase_job is not None:
                await phrase_job.stop()
            await services.metrics.loop_monitor.stop()
            await services.outbox.stop()
            if session_cap is not None:
                await session_cap.stop()
            await services.close()

    app = FastAPI(title="ustad", version=__version__, lifespan=lifespan)
    # Built from settings alone, so they exist before the lifespan and for every request.
    app.state.gatekeeper = Gatekeeper(resolved.auth, resolved.server.allowed_origins)
    app.state.rate_limits = RateLimits(resolved.limits)
    app.state.session_slots = SessionSlots(resolved.limits.max_sessions)
    runtime = resolved.runtime
    app.state.rest_slots = RestSlots(
        runtime.rest_concurrency, runtime.rest_queue, runtime.rest_yield_seconds
    )
    app.include_router(rest_router)
    app.include_router(openai_audio_router)
    app.include_router(openai_models_router)
    app.openapi = lambda: openapi_without_422(app)  # type: ignore[method-assign]
    app.include_router(access_router)
    app.include_router(audio_files_router)
    app.include_router(progress_router)

    async def api_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error.response()

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, openai_http_error)
    app.add_exception_handler(Exception, openai_server_error)
    upload_bytes = resolved.limits.max_message_bytes + MULTIPART_OVERHEAD
    app.add_middleware(
        BodyLimitMiddleware,
        limits=[BodyLimit(path, upload_bytes) for path in UPLOAD_PATHS],
        default_bytes=resolved.limits.max_body_bytes,
    )
    app.add_middleware(RateLimitMiddleware, limits=app.state.rate_limits)
    app.add_middleware(WorkerHeaderMiddleware, name=worker_name(resolved.server.worker_name))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=resolved.server.allowed_hosts)
    if resolved.server.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=resolved.server.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.include_router(learn_router)
    app.include_router(observability_router)
    mount_web(app)
    return app


UPLOAD_PATHS = ("/v1/assessments", "/v1/audio/transcriptions", "/v1/audio/translations")
"""Routes that take a multipart audio upload (up to ``limits.max_message_bytes``)."""
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries and form fields around an uploaded file."""

WS_FRAME_HEADROOM = 1024 * 1024
"""Bytes past ``limits.max_message_bytes`` that uvicorn still reads. A frame a little over
the limit gets the protocol's ``error`` (``message_too_large``) and the session goes on;
anything larger is refused by the WebSocket layer (close 1009) before it is buffered."""


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn must run ustad (``ustad serve`` and the tests use the same).

    Proxy headers are believed from ``server.forwarded_allow_ips`` only. Per-message
    deflate is off: a compressed frame is inflated before ustad sees it,
    so a megabyte on the wire could cost the server tens of megabytes."""
    return {
        "ws_max_size": settings.limits.max_message_bytes + WS_FRAME_HEADROOM,
        "ws_per_message_deflate": False,
        # The client address behind a trusted proxy (nginx), for rate limits and logs.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.server.forwarded_allow_ips,
    }


async def invalid_request(request: Request, error: Exception) -> Response:
    """422 in OpenAI's error shape (400 under ``/v1/audio/`` and ``/v1/models``, as
    OpenAI answers), naming the parameter but never echoing its value (a value such as
    ``1e309`` or ``NaN`` cannot even be written back as JSON)."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    param = validation_param(error)
    message = f"{param or 'request'}: {first.get('msg', 'invalid value')}"
    status = validation_status(request)
    return ApiError(status, message[:300], "invalid_value", param=param).response()


def share_limits(app: FastAPI, services: Services, settings: Settings) -> SharedSessionCap | None:
    """With the shared tier: rate limits counted in Redis and, with
    ``USTAD_REDIS__SESSION_CAP``, the session cap across workers (returned, refreshing
    in the background until its ``stop()``)."""
    tier = services.shared
    if tier is None:
        return None
    rates: RateLimits = app.state.rate_limits
    rates.share(tier)
    slots: SessionSlots = app.state.session_slots
    cap = None
    if settings.redis.session_cap is not None:
        cap = SharedSessionCap(tier, settings.redis.session_cap, settings.redis.lease_seconds)
        slots.shared = cap
        cap.begin(lambda: slots.open)

    def stats() -> SharedLimitStats:
        others = cap.others if cap is not None else None
        return SharedLimitStats(
            fleet_sessions=slots.open + (others or 0),
            fleet_refused=cap.refused if cap is not None else 0,
            rate_checks_local=rates.unshared,
        )

    services.metrics.shared_limits = stats
    return cap


def serve_app() -> FastAPI:
    """The uvicorn factory: settings from the environment, logging set up per process."""
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return create_app(settings)


async def pregenerate(services: Services) -> None:
    """Synthesise the fixed replies and fixed reply parts once, before serving."""
    started = time.perf_counter()
    speech = services.speech
    for segment in fixed_segments():
        await speech.synthesize_segment(segment)
    count = await speech.pregenerate(fixed_replies())
    log.info(
        "pre-generated %d fixed replies and %d fixed segments in %.2f s",
        count,
        len(fixed_segments()),
        time.perf_counter() - started,
    )
