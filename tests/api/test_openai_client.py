"""OpenAI's audio API as the official ``openai`` client calls it, against a running ustad
with the real engines over real HTTP (one server for the whole run: ``real_app``)."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from typing import Any

import av
import numpy as np
import openai
import pytest

from tests.api.conftest import RunningApp
from tests.conftest import LearnerClip, UrduClip
from ustad.speech.audio import decode_audio

pytestmark = [
    pytest.mark.models,
    # The client marks its whole audio API deprecated (OpenAI's model shutdown dates).
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]

SENTENCE = "Good morning, how are you?"
FORMATS = {
    "mp3": ("audio/mpeg", "mp3"),
    "opus": ("audio/ogg", "opus"),
    "aac": ("audio/aac", "aac"),
    "flac": ("audio/flac", "flac"),
    "wav": ("audio/wav", "pcm_s16le"),
}


def client(app: RunningApp) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"http://{app.address}/v1", api_key="unused", max_retries=0, timeout=300
    )


def pcm_seconds(data: bytes) -> float:
    """Length of raw 24 kHz 16-bit mono PCM, as OpenAI documents ``pcm``."""
    assert len(data) % 2 == 0
    return len(data) / 2 / 24_000


@pytest.fixture(scope="module")
def mary(learner_clips: list[LearnerClip]) -> bytes:
    return next(c for c in learner_clips if c.text == "SO MARY WENT ON TO STUDY").path.read_bytes()


async def test_speech_in_every_format(real_app: RunningApp) -> None:
    async with client(real_app) as oai:
        for fmt, (media, codec) in FORMATS.items():
            async with oai.audio.speech.with_streaming_response.create(
                model="tts-1", voice="alloy", input=SENTENCE, response_format=fmt
            ) as response:
                assert response.headers["content-type"] == media
                data = await response.read()
            audio = decode_audio(data, format_hint=fmt)
            assert 1.0 < audio.duration < 5.0, fmt
            assert float(np.abs(audio.samples).max()) > 0.05, f"{fmt} is silent"
            # The container holds the codec OpenAI's format names.
            with av.open(io.BytesIO(data)) as container:
                assert container.streams.audio[0].codec_context.name.startswith(codec[:3])
        pcm = await oai.audio.speech.create(
            model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm"
        )
        seconds = pcm_seconds(pcm.content)
        assert 1.0 < seconds < 5.0
        samples = np.frombuffer(pcm.content, dtype="<i2")
        assert int(np.abs(samples).max()) > 1000  # speech, not silence
        # The same speech in every format: pcm as long as the WAV at its own rate.
        wav = await oai.audio.speech.create(
            model="tts-1", voice="alloy", input=SENTENCE, response_format="wav"
        )
        assert abs(decode_audio(wav.content).duration - seconds) < 0.1


async def test_speech_streams_sentence_by_sentence(real_app: RunningApp) -> None:
    text = " ".join(
        f"This is sentence number {n}, spoken on its own." for n in ("one", "two", "three", "four")
    )
    arrivals: list[tuple[float, int]] = []
    async with client(real_app) as oai:
        started = time.perf_counter()
        async with oai.audio.speech.with_streaming_response.create(
            model="tts-1", voice="echo", input=text, response_format="pcm", speed=1.5
        ) as response:
            async for chunk in response.iter_bytes():
                arrivals.append((time.perf_counter() - started, len(chunk)))
    total = sum(size for _, size in arrivals)
    assert pcm_seconds(b"\0" * total) > 4 * 1.0
    # The first sentence arrives well before the last is synthesised.
    first, last = arrivals[0][0], arrivals[-1][0]
    assert first < 0.6 * last, arrivals
    assert len(arrivals) >= 4


async def test_openai_voices_and_ustad_voices(real_app: RunningApp) -> None:
    async with client(real_app) as oai:
        voices = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage")
        voices += ("shimmer", "verse", "marin", "cedar", "auto", "en")
        for voice in voices:
            wav = await oai.audio.speech.create(
                model="gpt-4o-mini-tts", voice=voice, input="Thank you.", response_format="wav"
            )
            assert 0.3 < decode_audio(wav.content).duration < 3.0, voice
        # OpenAI's voices say Urdu script in the Urdu voice.
        urdu = await oai.audio.speech.create(
            model="tts-1", voice="nova", input="آپ کیسے ہیں؟", response_format="wav"
        )
        assert decode_audio(urdu.content).duration > 0.5
        sse = await oai.audio.speech.create(
            model="tts-1",
            voice="nova",
            input="Thank you.",
            response_format="mp3",
            stream_format="sse",
        )
    events = [json.loads(line[6:]) for line in sse.text.splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events][-1] == "speech.audio.done"
    audio = b"".join(
        base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta"
    )
    assert 0.3 < decode_audio(audio).duration < 3.0


async def test_transcriptions_in_every_format(real_app: RunningApp, mary: bytes) -> None:
    upload = ("mary.wav", mary, "audio/wav")
    async with client(real_app) as oai:
        plain = await oai.audio.transcriptions.create(model="whisper-1", file=upload)
        assert "mary went on to study" in plain.text.lower()
        text = await oai.audio.transcriptions.create(
            model="whisper-1", file=upload, language="en", response_format="text"
        )
        assert "mary went on to study" in text.lower()
        srt = await oai.audio.transcriptions.create(
            model="whisper-1", file=upload, language="en", response_format="srt"
        )
        assert re.match(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n\S", srt), srt
        vtt = await oai.audio.transcriptions.create(
            model="whisper-1", file=upload, language="en", response_format="vtt"
        )
        assert vtt.startswith("WEBVTT\n\n") and re.search(r"00:00:\d\d\.\d{3} --> ", vtt)
        verbose = await oai.audio.transcriptions.create(
            model="whisper-1",
            file=upload,
            language="en",
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
        assert verbose.language == "en" and 1.0 < verbose.duration < 10.0
        assert verbose.segments and verbose.words and len(verbose.words) >= 5
        assert "mary" in " ".join(w.word.lower() for w in verbose.words)
        starts = [w.start for w in verbose.words]
        assert starts == sorted(starts) and verbose.words[-1].end <= verbose.duration + 0.1
        segment = verbose.segments[0]
        assert 0.0 <= segment.start < segment.end <= verbose.duration + 0.1
        only_segments = await oai.audio.transcriptions.create(
            model="whisper-1",
            file=upload,
            language="en",
            response_format="verbose_json",
            timestamp_granularities=["segment"],
        )
        assert only_segments.segments and only_segments.words is None


async def test_a_streamed_transcription(real_app: RunningApp, mary: bytes) -> None:
    async with client(real_app) as oai:
        stream = await oai.audio.transcriptions.create(
            model="gpt-4o-mini-transcribe",
            file=("mary.wav", mary, "audio/wav"),
            language="en",
            stream=True,
        )
        events = [event async for event in stream]
    assert [e.type for e in events[:-1]] == ["transcript.text.delta"] * (len(events) - 1)
    assert events and events[-1].type == "transcript.text.done"
    deltas = "".join(e.delta for e in events if e.type == "transcript.text.delta")
    done = events[-1]
    assert done.type == "transcript.text.done" and "mary went on to study" in done.text.lower()
    assert deltas.strip() == done.text  # the deltas add up to the text


async def test_translations_from_urdu(real_app: RunningApp, urdu_clips: list[UrduClip]) -> None:
    upload = ("urdu.mp3", urdu_clips[0].path.read_bytes(), "audio/mpeg")
    async with client(real_app) as oai:
        translation = await oai.audio.translations.create(model="whisper-1", file=upload)
        verbose = await oai.audio.translations.create(
            model="whisper-1", file=upload, response_format="verbose_json"
        )
    words = re.findall(r"[A-Za-z']+", translation.text)
    assert len(words) >= 2, translation.text
    assert not re.search(r"[\u0600-\u06ff]", translation.text)  # English, not Urdu script
    # Word timings are asked for in verbose_json: the decode may word it a little apart.
    assert verbose.language == "en" and set(verbose.text.split()) & set(translation.text.split())
    assert verbose.segments and verbose.segments[0].end <= verbose.duration + 0.1


async def test_models(real_app: RunningApp) -> None:
    async with client(real_app) as oai:
        models = [m.id async for m in oai.models.list()]
        assert "whisper:tiny.en" in models and "whisper:base" in models
        assert "piper:en_US-joe-medium" in models and "whisper-1" in models
        base = await oai.models.retrieve("whisper:base")
        assert base.id == "whisper:base" and base.owned_by == "ustad"
        with pytest.raises(openai.NotFoundError) as missing:
            await oai.models.retrieve("gpt-5")
    assert error_of(missing.value)["code"] == "model_not_found"


def error_of(error: openai.APIStatusError) -> dict[str, Any]:
    body = error.body
    assert isinstance(body, dict)
    assert set(body) == {"message", "type", "param", "code"}
    return body


@pytest.mark.parametrize(
    ("call", "param"),
    [
        ({"response_format": "ogg"}, "response_format"),
        ({"voice": "bogus"}, "voice"),
        ({"voice": {"id": "voice_1234"}}, "voice"),
        ({"speed": 10}, "speed"),
        ({"stream_format": "chunks"}, "stream_format"),
        ({"input": "\x00"}, "input"),
        ({"input": "👍"}, "input"),
        ({"input": "9" * 4096, "speed": 0.25}, "input"),
    ],
)
async def test_unsupported_speech_values_are_a_400_naming_the_parameter(
    real_app: RunningApp, call: dict[str, Any], param: str
) -> None:
    request: dict[str, Any] = {"model": "tts-1", "voice": "alloy", "input": "Hello.", **call}
    async with client(real_app) as oai:
        with pytest.raises(openai.BadRequestError) as refused:
            await oai.audio.speech.create(**request)
    error = error_of(refused.value)
    assert error["param"] == param and error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("call", "param"),
    [
        ({"response_format": "diarized_json"}, "response_format"),
        ({"timestamp_granularities": ["word"]}, "timestamp_granularities[]"),
        ({"timestamp_granularities": ["letter"], "response_format": "verbose_json"}, None),
        ({"include": ["logprobs"]}, "include"),
        ({"temperature": 2}, "temperature"),
        ({"language": "xx"}, "language"),
    ],
)
async def test_unsupported_transcription_values_are_a_400_naming_the_parameter(
    real_app: RunningApp, mary: bytes, call: dict[str, Any], param: str | None
) -> None:
    async with client(real_app) as oai:
        with pytest.raises(openai.BadRequestError) as refused:
            await oai.audio.transcriptions.create(
                model="whisper-1", file=("mary.wav", mary, "audio/wav"), **call
            )
    error = error_of(refused.value)
    assert error["param"] == (param or "timestamp_granularities[]")


async def test_undecodable_audio_and_english_only_translation_are_400s(
    real_app: RunningApp, mary: bytes
) -> None:
    async with client(real_app) as oai:
        with pytest.raises(openai.BadRequestError) as junk:
            await oai.audio.translations.create(
                model="whisper-1", file=("x.wav", b"not audio", "audio/wav")
            )
        with pytest.raises(openai.BadRequestError) as english_only:
            await oai.audio.translations.create(
                model="whisper:tiny.en", file=("mary.wav", mary, "audio/wav")
            )
    assert error_of(junk.value)["code"] == "undecodable_audio"
    assert error_of(english_only.value)["param"] == "model"
