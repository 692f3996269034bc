"""What a hostile or broken provider may send: every answer below is a fallback (or a
refused setting), never an exception out of the engines."""

from __future__ import annotations

import asyncio
import gzip
import logging
import struct
import time

import httpx
import pytest
from pydantic import ValidationError

from tests.speech.remote.helpers import (
    Scripted,
    chat,
    inline,
    ok_json,
    speech,
    stt_settings,
    tone,
    translation_settings,
    tts_settings,
    wav_answer,
)
from ustad.logs import configure_logging
from ustad.remote_settings import RemoteSttSettings
from ustad.speech.remote import tts
from ustad.speech.remote.provider import RemoteProvider
from ustad.speech.remote.stt import RemoteTranscriber
from ustad.speech.remote.translation import RemoteTranslator
from ustad.speech.remote.tts import RemoteSynthesizer
from ustad.speech.types import TranslationRequest

NESTED = b"[" * 100_000 + b"]" * 100_000


def raw_json(content: bytes) -> object:
    return lambda request: httpx.Response(
        200, content=content, headers={"content-type": "application/json"}
    )


def transcriber(script: Scripted, **settings: object) -> RemoteTranscriber:
    provider = RemoteProvider("stt", stt_settings(**settings), transport=script.transport)
    return RemoteTranscriber(provider, inline)


def segment(start: str, end: str, logprob: str = "-0.3") -> bytes:
    return (
        b'{"text": "I want water.", "segments": [{"text": " I want water.", "start": '
        + start.encode()
        + b', "end": '
        + end.encode()
        + b', "tokens": [1], "avg_logprob": '
        + logprob.encode()
        + b"}]}"
    )


@pytest.mark.parametrize(
    "content",
    [
        segment("0", "NaN"),
        segment("0", "Infinity"),
        segment("-1e308", "1e308"),
        segment("0", "1e999"),
        segment("0", "9.5"),  # past the 2 s clip and its slack
        segment("0", "1.5", logprob="-Infinity"),
        b'{"text": "hi", "words": [{"word": "hi", "start": 0, "end": NaN}]}',
        NESTED,
        b'{"text": ' + NESTED + b"}",
    ],
)
async def test_non_finite_out_of_range_or_nested_transcripts_are_malformed(content: bytes) -> None:
    engine = transcriber(Scripted([raw_json(content)]))  # type: ignore[list-item]
    assert await engine.transcribe(speech(), language="en", word_timestamps=True) is None
    stats = engine.provider.stats()
    assert stats.errors == {"malformed": 1} and stats.fallbacks == 1


def words(*said: str) -> list[dict[str, object]]:
    return [{"word": w, "start": 0.1 * i, "end": 0.1 * i + 0.05} for i, w in enumerate(said)]


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hello", "words": words("a") * 20_000},  # far too many
        {"text": "hello", "words": words(*"abcdefg")},  # seven words for one
        {"text": "I want some water to drink today please", "words": words("hello")},
    ],
)
async def test_timed_words_that_disagree_with_the_text_are_malformed(
    body: dict[str, object],
) -> None:
    engine = transcriber(Scripted([ok_json(body)]), max_response_bytes=64 * 1024 * 1024)
    assert await engine.transcribe(speech(), language="en", word_timestamps=True) is None
    assert engine.provider.stats().errors == {"malformed": 1}


async def test_timed_words_split_a_little_differently_are_accepted() -> None:
    body = {"text": "I don't want 25 apples.", "words": words("I", "don't", "want", "25")}
    engine = transcriber(Scripted([ok_json(body)]))
    heard = await engine.transcribe(speech(), language="en", word_timestamps=True)
    assert heard is not None and len(heard.words) == 4


@pytest.mark.parametrize("content", [NESTED, b'{"choices": ' + NESTED + b"}"])
async def test_a_nested_chat_answer_is_malformed(content: bytes) -> None:
    provider = RemoteProvider(
        "translation",
        translation_settings(),
        transport=Scripted(
            [raw_json(content)]  # type: ignore[list-item]
        ).transport,
    )
    remote = RemoteTranslator(provider)
    assert await remote.translate(TranslationRequest(text="پانی")) is None
    assert provider.stats().errors == {"malformed": 1}


async def test_a_nested_pair_inside_the_chat_message_is_malformed() -> None:
    provider = RemoteProvider(
        "translation", translation_settings(), transport=Scripted([chat("[" * 50_000)]).transport
    )
    assert await RemoteTranslator(provider).translate(TranslationRequest(text="پانی")) is None
    assert provider.stats().errors == {"malformed": 1}


def one_hertz_wav(samples: int = 300) -> bytes:
    """A 644-byte WAV at 1 Hz: 300 s of "audio"."""
    data = b"\x10\x27" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, 1, 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


@pytest.mark.parametrize(
    "audio",
    [
        one_hertz_wav(),
        tone(0.5, rate=4_000),  # below 8 kHz
        tone(40.0),  # far too long for "Hello." (the call's own limit is 360 s)
        # A playlist FFmpeg's probe would open as HLS (and fetch): never probed.
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n",
    ],
)
async def test_audio_absurd_for_its_text_or_rate_falls_back(audio: bytes) -> None:
    script = Scripted([wav_answer(audio)])
    provider = RemoteProvider("tts", tts_settings(retries=0), transport=script.transport)
    voice = RemoteSynthesizer(provider, inline, voices={"en": "nova"}, max_seconds=360)
    assert len(one_hertz_wav()) == 644
    assert await voice.synthesize("Hello.", "en") is None
    assert provider.stats().errors == {"rejected": 1} and provider.stats().fallbacks == 1


def test_the_audio_bound_per_text_is_generous() -> None:
    assert tts.longest_seconds("Hello.", 1.0) == pytest.approx(14.0)
    assert tts.longest_seconds("ﷺ" * 50, 1.0) > 67  # espeak-ng's Urdu voice takes 67 s
    assert tts.longest_seconds("Hello.", 0.25) == pytest.approx(
        4 * tts.longest_seconds("Hello.", 1.0)
    )


async def test_a_compressed_answer_is_refused_and_identity_is_asked_for() -> None:
    bomb = gzip.compress(b"0" * (50 * 1024 * 1024))
    script = Scripted(
        [
            lambda request: httpx.Response(
                200, content=bomb, headers={"content-encoding": "gzip", "content-type": "x"}
            )
        ]
    )
    engine = transcriber(script)
    assert await engine.transcribe(speech(), language="en") is None
    assert engine.provider.stats().errors == {"malformed": 1}
    assert script.requests[0].headers["accept-encoding"] == "identity"


async def test_the_deadline_bounds_a_call_with_all_its_retries() -> None:
    attempts = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.15)
        return httpx.Response(503)

    settings = stt_settings(timeout_seconds=0.5, retries=10, deadline_seconds=0.4)
    provider = RemoteProvider("stt", settings, transport=httpx.MockTransport(slow))
    engine = RemoteTranscriber(provider, inline)
    started = time.perf_counter()
    assert await engine.transcribe(speech(), language="en") is None
    assert time.perf_counter() - started < 1.0
    assert 2 <= attempts <= 3
    assert provider.stats().errors == {"timeout": 1}


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2@gpu-box:8000/v1",
        "https://gpu-box/v1?api_key=hunter2",
        "https://gpu-box/v1#hunter2",
        "http:///v1",
    ],
)
def test_base_urls_with_credentials_query_or_fragment_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="base_url") as error:
        RemoteSttSettings(base_url=url)
    assert "hunter2" not in str(error.value)


def test_httpx_request_lines_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", json_lines=False)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpcore").isEnabledFor(logging.INFO)
        assert logging.getLogger("ustad").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_the_default_deadline_is_one_attempt_and_a_margin() -> None:
    assert RemoteSttSettings().deadline == 15.0
    assert RemoteSttSettings(timeout_seconds=120).deadline == 125.0
    assert RemoteSttSettings(deadline_seconds=3).deadline == 3.0
