"""REST routes: health, phrases, assessment and OpenAI-compatible speech endpoints."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text as sql_text

from ustad import __version__
from ustad.api.access import LearnerOrOperator
from ustad.api.admission import RestSlot
from ustad.api.auth import Gatekeeper, bearer
from ustad.api.errors import ApiError
from ustad.assess.normalize import normalize_target
from ustad.learn.processor import NoSpeechError
from ustad.runtime.outbox import within
from ustad.runtime.speech_service import spoken_form
from ustad.runtime.timing import TurnTimer
from ustad.services import Services
from ustad.speech.audio import MEDIA_TYPES, AudioDecodeError, AudioTooLongError
from ustad.speech.text_chunks import estimated_seconds
from ustad.speech.types import Segment, SpokenText
from ustad.stat_fields import record_json, to_json
from ustad.text.markup import strip_markup
from ustad.tutor.feedback import feedback
from ustad.tutor.texts import by_script

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
        raise ApiError(413, f"file larger than {limit} bytes", "file_too_large")
    if not data:
        raise ApiError(400, "the uploaded file is empty", "empty_file")
    return data


def audio_error(error: Exception) -> ApiError:
    """The API error for a decoder failure."""
    if isinstance(error, AudioTooLongError):
        return ApiError(400, str(error), "audio_too_long")
    if isinstance(error, NoSpeechError):
        return ApiError(400, str(error), "no_speech")
    return ApiError(400, f"could not decode audio: {error}", "undecodable_audio")


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
            data, text, format_hint=_extension(file.filename), timer=timer
        )
    except (AudioDecodeError, AudioTooLongError, NoSpeechError) as error:
        raise audio_error(error) from error
    spoken = feedback(assessment, language_mode)
    return {
        "assessment": assessment.to_dict(),
        "feedback": spoken.text,
        "timings": timer.as_dict(),
    }


class SpeechRequest(BaseModel):
    """``POST /v1/audio/speech`` (the OpenAI shape)."""

    model: str = Field(default="tts-1", max_length=100)
    """Accepted for compatibility; the voice picks the engine."""
    input: str = Field(min_length=1, max_length=4096)
    voice: str = "auto"
    """``auto`` (Urdu-script runs in the Urdu voice, the rest in English), ``en``/any
    English voice name (e.g. ``en_US-joe-medium`` or an OpenAI name), or ``ur``."""
    response_format: Literal["mp3", "opus", "wav"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters other than tab and line breaks: nothing a voice can say."""


@router.post("/v1/audio/speech", dependencies=[LearnerOrOperator, RestSlot])
async def create_speech(services: ServicesDep, request: SpeechRequest) -> Response:
    """Text to speech (400 for control characters, which no voice can say)."""
    if _CONTROL.search(request.input):
        raise ApiError(400, "input contains control characters", "invalid_input", param="input")
    if request.voice in ("ur", "urdu", services.settings.tts.urdu_voice):
        spoken = SpokenText.single("ur", request.input)
    elif request.voice == "auto":
        spoken = by_script(request.input)
    else:
        spoken = SpokenText(request.input, (Segment("en", request.input),))
    # Tags, Markdown and emoji are never read out: text of only those has nothing to say.
    if not spoken.segments or not any(ch.isalnum() for ch in strip_markup(request.input)):
        raise ApiError(400, "input has nothing to say", "empty_input")
    # The spoken form is what takes time: "9" * 4000 is 4000 characters and 20000 said.
    # Working it out is CPU work that grows with the input: off the event loop.
    said = await asyncio.to_thread(lambda: " ".join(map(spoken_form, spoken.segments)))
    seconds = estimated_seconds(said, request.speed)
    limit = services.settings.tts.max_speech_seconds
    if seconds > limit:
        message = f"about {seconds:.0f} s of speech at this speed; the limit is {limit:.0f} s"
        raise ApiError(400, message, "input_too_long")
    audio = await services.speech.speak(spoken, fmt=request.response_format, speed=request.speed)
    return Response(audio, media_type=MEDIA_TYPES[request.response_format])


@router.post(
    "/v1/audio/transcriptions",
    response_model=None,
    dependencies=[LearnerOrOperator, RestSlot],
)
async def create_transcription(
    services: ServicesDep,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    response_format: Annotated[Literal["json", "text", "verbose_json"], Form()] = "json",
) -> dict[str, Any] | PlainTextResponse:
    """Speech to text. English (``language=en`` or an ``.en`` model) uses the English
    model; anything else the multilingual one, which detects the language if none is given."""
    data = await read_upload(file, services)
    speech = services.speech
    try:
        audio = await speech.decode(
            data,
            max_seconds=services.settings.limits.max_audio_seconds,
            format_hint=_extension(file.filename),
        )
    except (AudioDecodeError, AudioTooLongError) as error:
        raise audio_error(error) from error
    english = language == "en" or model.endswith(".en")
    try:
        transcript = await speech.transcribe(
            audio,
            english=english,
            language="en" if english else language,
            word_timestamps=response_format == "verbose_json",
        )
    except ValueError as error:  # a language code the model does not know
        raise ApiError(400, str(error)[:200], "unsupported_language") from error
    if response_format == "text":
        return PlainTextResponse(transcript.text.strip())
    if response_format == "json":
        return {"text": transcript.text.strip()}
    return {
        "task": "transcribe",
        "language": transcript.language,
        "language_probability": round(transcript.language_probability, 3),
        "duration": round(transcript.duration, 3),
        "text": transcript.text.strip(),
        "words": [
            {
                "word": w.text,
                "start": round(w.start, 2),
                "end": round(w.end, 2),
                "probability": round(w.probability, 3),
            }
            for w in transcript.words
        ],
    }


def _extension(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return filename.rsplit(".", 1)[1].lower()
