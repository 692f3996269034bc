"""REST routes: health, phrases and assessment (OpenAI's audio API: ``openai_audio``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy import text as sql_text

from ustad import __version__
from ustad.api.access import LearnerOrOperator
from ustad.api.admission import RestSlot
from ustad.api.auth import Gatekeeper, bearer
from ustad.api.errors import ApiError
from ustad.assess.normalize import normalize_target
from ustad.learn.processor import NoSpeechError
from ustad.runtime.outbox import within
from ustad.runtime.timing import TurnTimer
from ustad.services import Services
from ustad.speech.audio import AudioDecodeError, AudioTooLongError
from ustad.stat_fields import record_json, to_json
from ustad.tutor.feedback import feedback

router = APIRouter()


def get_services(request: Request) -> Services:
    """The app's services (built in its lifespan)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def read_upload(upload: UploadFile, services: Services) -> bytes:
    """The uploaded bytes, refused past the message limit."""
    limit = services.settings.limits.max_message_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"file larger than {limit} bytes", "file_too_large", param="file")
    if not data:
        raise ApiError(400, "the uploaded file is empty", "empty_file", param="file")
    return data


def audio_error(error: Exception) -> ApiError:
    """The API error for a decoder failure."""
    if isinstance(error, AudioTooLongError):
        return ApiError(400, str(error), "audio_too_long", param="file")
    if isinstance(error, NoSpeechError):
        return ApiError(400, str(error), "no_speech", param="file")
    return ApiError(400, f"could not decode audio: {error}", "undecodable_audio", param="file")


@router.get("/health")
async def health(services: ServicesDep, request: Request) -> dict[str, Any]:
    """Liveness and readiness (the database answers, the engines are loaded) and the
    speech layer's counters (``SpeechStats``: engine calls, requests, caches, executor).

    Always 200 and quick: a database that fails or does not answer ``SELECT 1`` within
    ``db.health_timeout_seconds`` is reported ``degraded`` (so is the whole status), and
    ``outbox`` says how many learn-session writes wait on disk for it. With access
    control on, only an operator key sees more than the status (load balancers need
    no credentials for that)."""
    database_ok = await _database_answers(services)
    # A stalled outbox (a disk error) keeps turns from reaching the database too.
    healthy = database_ok and not services.outbox.stats().stalled
    status = {
        "status": "ok" if healthy else "degraded",
        "version": __version__,
        "database": "ok" if database_ok else "degraded",
        # Redis: "off" (not configured), "ok", or "down" (the workers answer from their
        # in-process tiers; not a reason to take the worker out of service).
        "shared_tier": "off" if services.shared is None else "ok" if services.shared.up else "down",
    }
    gate: Gatekeeper = request.app.state.gatekeeper
    if gate.enabled and not gate.is_operator_key(bearer(request.headers)):
        return status
    speech = services.speech
    return {
        **status,
        "outbox": record_json(services.outbox.stats()),
        "engines": {
            "stt_english": speech.english_stt.name,
            "stt_multilingual": speech.multilingual_stt.name,
            "tts": {lang: f"{v.engine}:{v.voice}" for lang, v in speech.voices.items()},
            "translators": [t.name for t in speech.translators],
            # Remote providers asked first (their URLs and keys are not shown).
            "remote": {
                p.name: {"model": p.model, "breaker": p.stats().breaker_state}
                for p in speech.remote.providers
            },
        },
        "sessions_active": services.metrics.sessions_active,
        "phrases": len(services.phrases),
        # Engine calls, requests, caches, executors: the same snapshot as /v1/stats.
        **to_json(speech.stats()),
    }


async def _database_answers(services: Services) -> bool:
    async def ping() -> None:
        async with services.database.session() as session:
            await session.execute(sql_text("SELECT 1"))

    try:
        # Not waiting for a hung call to unwind either (see ``within``).
        await within(services.settings.db.health_timeout_seconds, ping())
    except Exception:
        return False
    return True


@router.get("/v1/phrases")
async def phrases(
    services: ServicesDep,
    category: str | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The phrase bank, optionally filtered by category or a search string."""
    rows = [
        p
        for p in services.phrases
        if (category is None or p.category == category)
        and (q is None or q.lower() in f"{p.english} {p.roman_urdu}".lower() or q in p.urdu)
    ]
    page = rows[offset : offset + limit]
    return {
        "total": len(rows),
        "categories": services.phrases.categories(),
        "phrases": [
            {
                "id": p.id,
                "category": p.category,
                "urdu": p.urdu,
                "roman_urdu": p.roman_urdu,
                "english": p.english,
            }
            for p in page
        ],
    }


@router.post("/v1/assessments", dependencies=[LearnerOrOperator, RestSlot])
async def create_assessment(
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="the English attempt (any common audio format)")],
    text: Annotated[str, Form(min_length=1, max_length=500, description="the target sentence")],
    language_mode: Annotated[Literal["urdu", "english"], Form()] = "english",
) -> dict[str, Any]:
    """Assess a recording against its target sentence (400 for a target with no words)."""
    if not normalize_target(text).tokens:
        raise ApiError(400, "text has no words to say", "invalid_input", param="text")
    data = await read_upload(file, services)
    timer = TurnTimer()
    try:
        assessment = await services.processor.assess_recording(
            data, text, format_hint=extension(file.filename), timer=timer
        )
    except (AudioDecodeError, AudioTooLongError, NoSpeechError) as error:
        raise audio_error(error) from error
    spoken = feedback(assessment, language_mode)
    return {
        "assessment": assessment.to_dict(),
        "feedback": spoken.text,
        "timings": timer.as_dict(),
    }


def extension(filename: str | None) -> str | None:
    """The lower-case extension of an uploaded file's name (a format hint), if any."""
    if not filename or "." not in filename:
        return None
    return filename.rsplit(".", 1)[1].lower()
