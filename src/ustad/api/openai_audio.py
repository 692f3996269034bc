"""OpenAI's audio API on ustad's engines: speech, transcriptions and translations.

The official ``openai`` client pointed at ``http://host:port/v1`` works unchanged:

* ``POST /v1/audio/speech``: ``mp3``, ``opus`` (Ogg), ``aac`` (ADTS), ``flac``, ``wav``
  and ``pcm`` (raw 24 kHz 16-bit little-endian mono), streamed sentence by sentence
  as it is synthesised (``stream_format="sse"``: ``speech.audio.delta`` events with
  base64 audio, then ``speech.audio.done``). OpenAI's voice names say text in Urdu
  script with ustad's Urdu voice and the rest with its English voice (``VOICES``).
* ``POST /v1/audio/transcriptions``: ``json``, ``text``, ``srt``, ``vtt`` and
  ``verbose_json`` with ``segments`` and ``words`` (``timestamp_granularities[]``);
  ``stream=true`` answers OpenAI's server-sent events: ``transcript.text.delta`` as
  the recogniser decodes each segment, then ``transcript.text.done``.
* ``POST /v1/audio/translations``: speech in another language (Urdu) to English text
  by Whisper's translate task, in the same formats.

Every request is bounded as before: ``input`` at most 4096 characters and
``tts.max_speech_seconds`` of speech (estimated before synthesis: a 400; then counted
as it is said: the stream ends at the limit), uploads at most
``limits.max_message_bytes`` and ``limits.max_audio_seconds``, one REST engine slot.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from ustad.api.access import LearnerOrOperator
from ustad.api.admission import RestSlot
from ustad.api.bounded_stream import BoundedStreamingResponse
from ustad.api.errors import ApiError
from ustad.api.openai_compat import error_responses
from ustad.api.rest import ServicesDep, audio_error, extension, read_upload
from ustad.api.transcripts import subtitles, verbose_json
from ustad.runtime.speech_parts import spoken_form
from ustad.runtime.speech_stream import SpeechTooLongError, stream_speech
from ustad.runtime.transcript_stream import stream_transcription
from ustad.services import Services
from ustad.speech.audio import AudioDecodeError, AudioTooLongError
from ustad.speech.stream_encoding import STREAM_MEDIA_TYPES, StreamFormat
from ustad.speech.text_chunks import estimated_seconds
from ustad.speech.types import Audio, Segment, SpokenText, Task, Transcript
from ustad.text.markup import strip_markup
from ustad.tutor.texts import by_script

router = APIRouter()

OPENAI_VOICES: Final = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
"""OpenAI's built-in voices. ustad has one voice per language, so each of them speaks
as ``auto``: Urdu-script runs in the Urdu voice (espeak-ng), the rest in the English
voice (Piper en_US-joe-medium)."""

VoicePlan = Literal["auto", "en", "ur"]

TranscriptFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters other than tab and line breaks: nothing a voice can say."""

_SPEECH_CONTENT: Final = {
    200: {
        "description": "the audio, streamed as it is synthesised (``text/event-stream`` "
        "with ``stream_format=sse``)",
        "content": {
            **{
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in dict.fromkeys(STREAM_MEDIA_TYPES.values())
            },
            "text/event-stream": {"schema": {"type": "string"}},
        },
    },
    **error_responses(400, 401, 413, 429, 500, 503),
}
_TEXT_CONTENT: Final = {
    200: {
        "description": "``json``/``verbose_json`` as JSON, ``text``/``srt``/``vtt`` as text, "
        "``stream=true`` as server-sent events",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/plain": {"schema": {"type": "string"}},
            "text/event-stream": {"schema": {"type": "string"}},
        },
    },
    **error_responses(400, 401, 413, 429, 500, 503),
}


class CustomVoice(BaseModel):
    """OpenAI's custom voice reference (not supported: ustad has no voice cloning)."""

    id: str = Field(max_length=200)


class SpeechRequest(BaseModel):
    """``POST /v1/audio/speech`` (OpenAI's shape)."""

    model: str = Field(default="tts-1", max_length=100)
    """Accepted for compatibility (``tts-1``, ``gpt-4o-mini-tts``...); the voice picks
    the engine."""
    input: str = Field(min_length=1, max_length=4096)
    voice: str | CustomVoice = Field(default="auto", union_mode="left_to_right")
    """``auto`` (Urdu-script runs in the Urdu voice, the rest in English), ``en`` or the
    English voice's id, ``ur`` or the Urdu voice's id, or an OpenAI voice name (as
    ``auto``)."""
    instructions: str | None = Field(default=None, max_length=4096)
    """Accepted and ignored: ustad's voices take no style instructions."""
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


def voice_plan(voice: str | CustomVoice, services: Services) -> VoicePlan:
    """Which of ustad's voices say a request's text (400 ``invalid_voice`` naming
    ``voice`` for a custom voice or an unknown name)."""
    if isinstance(voice, CustomVoice):
        raise ApiError(400, "custom voices are not supported", "invalid_voice", param="voice")
    name = voice.strip().lower()
    voices = services.speech.voices
    english = {"en", "english", *(v.voice.lower() for k, v in voices.items() if k == "en")}
    urdu = {"ur", "urdu", services.settings.tts.urdu_voice.lower()}
    if name == "auto" or name in OPENAI_VOICES:
        return "auto"
    if name in english:
        return "en"
    if name in urdu:
        return "ur"
    known = ", ".join(["auto", "en", "ur", *OPENAI_VOICES])
    raise ApiError(400, f"unknown voice; use one of {known}", "invalid_voice", param="voice")


@router.post(
    "/v1/audio/speech",
    dependencies=[LearnerOrOperator, RestSlot],
    response_class=StreamingResponse,
    responses=_SPEECH_CONTENT,
)
async def create_speech(services: ServicesDep, request: SpeechRequest) -> Response:
    """Text to speech, streamed as each sentence is synthesised (400 for control
    characters, text with nothing to say, or more than ``tts.max_speech_seconds``)."""
    if _CONTROL.search(request.input):
        raise ApiError(400, "input contains control characters", "invalid_input", param="input")
    plan = voice_plan(request.voice, services)
    if plan == "ur":
        spoken = SpokenText.single("ur", request.input)
    elif plan == "auto":
        spoken = by_script(request.input)
    else:
        spoken = SpokenText(request.input, (Segment("en", request.input),))
    # Tags, Markdown and emoji are never read out: text of only those has nothing to say.
    if not spoken.segments or not any(ch.isalnum() for ch in strip_markup(request.input)):
        raise ApiError(400, "input has nothing to say", "empty_input", param="input")
    # The spoken form is what takes time: "9" * 4000 is 4000 characters and 20000 said.
    # Working it out is CPU work that grows with the input: off the event loop.
    said = await asyncio.to_thread(lambda: " ".join(map(spoken_form, spoken.segments)))
    seconds = estimated_seconds(said, request.speed)
    limit = services.settings.tts.max_speech_seconds
    if seconds > limit:
        message = f"about {seconds:.0f} s of speech at this speed; the limit is {limit:.0f} s"
        raise ApiError(400, message, "input_too_long", param="input")
    fmt: StreamFormat = request.response_format
    # The estimate above is the early answer; the seconds actually said are counted too
    # (a voice may say far more than the text suggests): the stream stops at the limit.
    chunks = stream_speech(services.speech, spoken, fmt=fmt, speed=request.speed, max_seconds=limit)
    try:
        # The first sentence before the status line: a failure there is still an error.
        first = await anext(chunks)
    except SpeechTooLongError as error:
        message = f"{error.seconds:.0f} s of speech at this speed; the limit is {limit:.0f} s"
        raise ApiError(400, message, "input_too_long", param="input") from error
    except (StopAsyncIteration, ValueError) as error:
        raise ApiError(400, "input has nothing to say", "empty_input", param="input") from error
    send_timeout = services.settings.limits.send_timeout_seconds
    if request.stream_format == "sse":
        events = _speech_events(first, chunks)
        return BoundedStreamingResponse(
            events, send_timeout=send_timeout, media_type="text/event-stream"
        )
    audio = _prepend(first, chunks)
    media_type = STREAM_MEDIA_TYPES[fmt]
    return BoundedStreamingResponse(audio, send_timeout=send_timeout, media_type=media_type)


async def _prepend(first: bytes, rest: AsyncGenerator[bytes]) -> AsyncIterator[bytes]:
    """``first``, then the rest; a client that goes away stops the rest at once."""
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()


async def _speech_events(first: bytes, rest: AsyncGenerator[bytes]) -> AsyncIterator[str]:
    """OpenAI's speech events: ``speech.audio.delta`` (base64 ``audio``) per chunk, then
    ``speech.audio.done``."""
    try:
        yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(first).decode()})
        async for chunk in rest:
            yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()})
    finally:
        await rest.aclose()
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    yield _event({"type": "speech.audio.done", "usage": usage})


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _decoded(services: Services, file: UploadFile) -> Audio:
    data = await read_upload(file, services)
    try:
        return await services.speech.decode(
            data,
            max_seconds=services.settings.limits.max_audio_seconds,
            format_hint=extension(file.filename),
        )
    except (AudioDecodeError, AudioTooLongError) as error:
        raise audio_error(error) from error


async def _recognised(
    services: Services,
    audio: Audio,
    *,
    english: bool,
    language: str | None,
    task: Task,
    word_timestamps: bool,
) -> Transcript:
    try:
        return await services.speech.transcribe(
            audio, english=english, language=language, task=task, word_timestamps=word_timestamps
        )
    except ValueError as error:  # a language code the model does not know
        raise ApiError(400, str(error)[:200], "unsupported_language", param="language") from error


def _answer(
    transcript: Transcript, fmt: TranscriptFormat, *, task: str, words: bool, segments: bool
) -> Response:
    if fmt == "text":
        return PlainTextResponse(transcript.text.strip())
    if fmt in ("srt", "vtt"):
        media = "text/vtt" if fmt == "vtt" else "text/plain"
        return PlainTextResponse(subtitles(transcript, fmt), media_type=media)
    if fmt == "json":
        return JSONResponse({"text": transcript.text.strip()})
    body = verbose_json(
        transcript, task=task, words=words, segments=segments, language=transcript.language
    )
    return JSONResponse(body)


async def _transcript_events(
    services: Services, audio: Audio, *, english: bool, language: str | None
) -> Response:
    """OpenAI's streamed transcription: a ``transcript.text.delta`` event for each piece
    of text as the recogniser decodes it, then ``transcript.text.done`` with the whole
    text (each send within ``limits.send_timeout_seconds``). The first piece is awaited
    before the status line, so a language the model does not know is still a 400."""
    pieces = stream_transcription(services.speech, audio, english=english, language=language)
    try:
        first: str | None = await anext(pieces)
    except StopAsyncIteration:
        first = None
    except ValueError as error:  # a language code the model does not know
        await pieces.aclose()
        raise ApiError(400, str(error)[:200], "unsupported_language", param="language") from error

    async def events() -> AsyncIterator[str]:
        said: list[str] = []
        try:
            if first is not None:
                said.append(first)
                yield _event({"type": "transcript.text.delta", "delta": first})
            async for delta in pieces:
                said.append(delta)
                yield _event({"type": "transcript.text.delta", "delta": delta})
        finally:
            await pieces.aclose()
        yield _event({"type": "transcript.text.done", "text": "".join(said).strip()})

    send_timeout = services.settings.limits.send_timeout_seconds
    return BoundedStreamingResponse(
        events(), send_timeout=send_timeout, media_type="text/event-stream"
    )


@router.post(
    "/v1/audio/transcriptions",
    dependencies=[LearnerOrOperator, RestSlot],
    response_class=Response,
    responses=_TEXT_CONTENT,
)
async def create_transcription(
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="the recording (any common format)")],
    model: Annotated[str, Form(max_length=100)] = "whisper-1",
    language: Annotated[str | None, Form(max_length=20)] = None,
    prompt: Annotated[str | None, Form(max_length=4096)] = None,
    response_format: Annotated[TranscriptFormat, Form()] = "json",
    temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
    timestamp_granularities: Annotated[
        list[Literal["word", "segment"]] | None, Form(alias="timestamp_granularities[]")
    ] = None,
    include: Annotated[list[str] | None, Form(alias="include[]")] = None,
    stream: Annotated[bool, Form()] = False,
) -> Response:
    """Speech to text. English (``language=en`` or an ``.en`` model) uses the English
    model; anything else the multilingual one, which detects the language if none is
    given. ``prompt`` and ``temperature`` are accepted and not used (greedy decoding).
    ``verbose_json`` has ``segments`` and ``words`` (only those named when
    ``timestamp_granularities[]`` is given)."""
    granularities = _granularities(response_format, timestamp_granularities)
    if include:
        raise ApiError(400, "include[] is not supported", "unsupported_parameter", param="include")
    audio = await _decoded(services, file)
    english = language == "en" or model.endswith(".en")
    if stream:
        language = "en" if english else language
        return await _transcript_events(services, audio, english=english, language=language)
    transcript = await _recognised(
        services,
        audio,
        english=english,
        language="en" if english else language,
        task="transcribe",
        word_timestamps=response_format in ("srt", "vtt", "verbose_json"),
    )
    return _answer(
        transcript,
        response_format,
        task="transcribe",
        words="word" in granularities,
        segments="segment" in granularities,
    )


@router.post(
    "/v1/audio/translations",
    dependencies=[LearnerOrOperator, RestSlot],
    response_class=Response,
    responses=_TEXT_CONTENT,
)
async def create_translation(
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="speech in Urdu (or another language)")],
    model: Annotated[str, Form(max_length=100)] = "whisper-1",
    prompt: Annotated[str | None, Form(max_length=4096)] = None,
    response_format: Annotated[TranscriptFormat, Form()] = "json",
    temperature: Annotated[float, Form(ge=0.0, le=1.0)] = 0.0,
) -> Response:
    """Speech to English text by the multilingual model's translate task (Whisper base
    by default), which detects the spoken language first. An English-only model
    (``.en``) cannot translate: 400 naming ``model``."""
    if model.endswith(".en"):
        message = "an English-only model cannot translate"
        raise ApiError(400, message, "unsupported_model", param="model")
    audio = await _decoded(services, file)
    transcript = await _recognised(
        services,
        audio,
        english=False,
        language=None,
        task="translate",
        word_timestamps=response_format in ("srt", "vtt", "verbose_json"),
    )
    english = replace(transcript, language="en", language_probability=1.0)
    return _answer(english, response_format, task="translate", words=False, segments=True)


def _granularities(
    response_format: TranscriptFormat, asked: list[Literal["word", "segment"]] | None
) -> set[str]:
    """The timestamp granularities of a transcription: as asked (which needs
    ``verbose_json``: 400 naming ``timestamp_granularities[]`` otherwise), both when
    none is given."""
    if not asked:
        return {"word", "segment"}
    if response_format != "verbose_json":
        raise ApiError(
            400,
            "timestamp_granularities[] needs response_format verbose_json",
            "invalid_value",
            param="timestamp_granularities[]",
        )
    return set(asked)
