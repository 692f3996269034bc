"""What makes ``/v1/audio/*`` and ``/v1/models`` look like OpenAI's API to its clients.

* Errors: every error under those paths is OpenAI's ``{"error": {"message", "type",
  "param", "code"}}``, including FastAPI's own 404/405 and request validation, which
  OpenAI answers with 400 (other routes keep FastAPI's 422 and ``detail``), and an
  unexpected failure, a 500 ``server_error`` that never carries the exception's text.
* ``GET /v1/models`` and ``GET /v1/models/{id}``: the recognisers and voices loaded,
  and the OpenAI model names ustad answers to.
* The OpenAPI document: the 422 FastAPI adds to every route with parameters is
  dropped from these paths, which answer 400 instead.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ustad.api.access import LearnerOrOperator
from ustad.api.errors import ApiError
from ustad.api.rest import ServicesDep
from ustad.services import Services

router = APIRouter()

OPENAI_PATHS: Final = ("/v1/audio/", "/v1/models")
"""Path prefixes answered in OpenAI's shapes."""

TRANSCRIPTION_ALIASES: Final = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-transcribe",
)
"""OpenAI recogniser names: served by the multilingual model (``.en`` names by the
English one)."""
SPEECH_ALIASES: Final = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
"""OpenAI speech model names: served by the voices (the voice picks the engine)."""


def is_openai_path(path: str) -> bool:
    """Whether ``path`` is answered in OpenAI's shapes (``/v1/audio/...``, ``/v1/models``)."""
    return path.startswith(OPENAI_PATHS)


class ErrorDetail(BaseModel):
    """OpenAI's error object."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """OpenAI's error answer: ``{"error": {...}}``."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring OpenAI-shaped errors for ``statuses``."""
    described = {
        400: "an unsupported or invalid parameter (``param`` names it)",
        401: "access control is on and no valid learner token or operator key was sent",
        404: "no such model",
        413: "the upload or body is larger than the limit",
        429: "this client is past its request rate (``Retry-After``)",
        500: "an internal error (``server_error``; the message says nothing more)",
        503: "the server is busy (``server_error``, code ``busy``; ``Retry-After``)",
    }
    return {
        status: {"model": ErrorBody, "description": described.get(status, "error")}
        for status in statuses
    }


async def openai_http_error(request: Request, error: Exception) -> Response:
    """FastAPI's 404/405 (and other ``HTTPException``s) in OpenAI's shape under
    :data:`OPENAI_PATHS`; FastAPI's own answer elsewhere."""
    assert isinstance(error, StarletteHTTPException)
    if not is_openai_path(request.url.path):
        return await http_exception_handler(request, error)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = error.detail if isinstance(error.detail, str) else "request refused"
    code = codes.get(error.status_code, "http_error")
    headers = dict(error.headers) if error.headers else None
    return ApiError(error.status_code, message, code, headers=headers).response()


def validation_status(request: Request) -> int:
    """The status of a request that fails validation: 400 under :data:`OPENAI_PATHS`
    (as OpenAI answers), FastAPI's 422 elsewhere."""
    return 400 if is_openai_path(request.url.path) else 422


REQUEST_PARTS: Final = ("body", "query", "path", "header", "cookie", "form")
"""Where FastAPI says a parameter came from: the first element of an error's ``loc``."""


def validation_param(error: RequestValidationError) -> str | None:
    """The parameter the first validation error is about (``speed``, ``voice``,
    ``timestamp_granularities[]``...): the first element of its location after where it
    came from (``body``, ``query``, a form field), never the union member or nested
    field pydantic adds (``voice.str``); ``None`` for the body as a whole."""
    first = error.errors()[0] if error.errors() else {}
    loc = list(first.get("loc", ()))
    if loc and loc[0] in REQUEST_PARTS:
        loc = loc[1:]
    return next((str(part) for part in loc if isinstance(part, str)), None)


async def openai_server_error(request: Request, error: Exception) -> Response:
    """An unhandled exception: 500 in OpenAI's shape under :data:`OPENAI_PATHS`
    (``server_error``, code ``internal_error``, never the exception's text), plain text
    elsewhere (Starlette's default). The exception is still logged by the server."""
    if not is_openai_path(request.url.path):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return ApiError(500, "internal error", "internal_error").response()


def openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (built once) without the 422 answers FastAPI declares
    for routes under :data:`OPENAI_PATHS`, which answer 400 instead."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        for path, operations in schema.get("paths", {}).items():
            if is_openai_path(path):
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
        app.openapi_schema = schema
    return app.openapi_schema


def served_models(services: Services) -> list[dict[str, Any]]:
    """The models ``/v1/models`` lists: the loaded recognisers and voices, the remote
    providers' models when configured (``remote:<model>``, asked first, the local ones
    answering when they fail), then the OpenAI names that reach them (``ustad_model``
    says which loaded model answers)."""
    speech = services.speech
    english, multilingual = speech.english_stt.name, speech.multilingual_stt.name
    voices = [f"{v.engine}:{v.voice}" for v in speech.voices.values()]
    remote: dict[str, list[str]] = {}
    if speech.remote.stt is not None:
        remote.setdefault(speech.remote.stt.name, []).append("transcription")
    if speech.remote.tts is not None:
        remote.setdefault(f"remote:{speech.remote.tts.provider.model}", []).append("speech")
    loaded = [
        {"id": english, "ustad_tasks": ["transcription"]},
        {"id": multilingual, "ustad_tasks": ["transcription", "translation"]},
        *({"id": voice, "ustad_tasks": ["speech"]} for voice in voices),
        *({"id": model, "ustad_tasks": tasks} for model, tasks in remote.items()),
    ]
    aliases = [
        *({"id": name, "ustad_model": multilingual} for name in TRANSCRIPTION_ALIASES),
        *({"id": name, "ustad_model": ",".join(voices)} for name in SPEECH_ALIASES),
    ]
    return [{"object": "model", "created": 0, "owned_by": "ustad", **m} for m in loaded + aliases]


@router.get("/v1/models", dependencies=[LearnerOrOperator], responses=error_responses(401, 429))
async def list_models(services: ServicesDep) -> dict[str, Any]:
    """OpenAI's model list: ``{"object": "list", "data": [{"id", "object": "model",
    "created": 0, "owned_by": "ustad", ...}]}`` (see :func:`served_models`)."""
    return {"object": "list", "data": served_models(services)}


@router.get(
    "/v1/models/{model_id:path}",
    dependencies=[LearnerOrOperator],
    responses=error_responses(401, 404, 429),
)
async def retrieve_model(model_id: str, services: ServicesDep) -> dict[str, Any]:
    """One model of :func:`served_models` by id (404 ``model_not_found`` otherwise)."""
    for model in served_models(services):
        if model["id"] == model_id:
            return model
    message = f"the model {model_id!r} is not served here"
    raise ApiError(404, message, "model_not_found", param="model")
