"""OpenAI's streamed transcription over HTTP, on a recogniser the test paces (fake
engines): text sent as it is decoded, decoding stopped when the client goes away."""

from __future__ import annotations

import asyncio

import numpy as np
import openai
import pytest

from tests.api.conftest import RunningApp
from ustad.speech.audio import encode_audio
from ustad.speech.types import Pcm

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def upload() -> tuple[str, bytes, str]:
    t = np.arange(16_000) / 16_000
    samples = (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16)
    return ("clip.wav", encode_audio(Pcm(samples, 16_000), "wav"), "audio/wav")


def client(app: RunningApp) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"http://{app.address}/v1", api_key="unused", max_retries=0, timeout=60
    )


async def test_deltas_are_sent_as_the_recogniser_decodes(fake_app: RunningApp) -> None:
    script = fake_app.script
    script.segments = ("Pehla jumla.", "Doosra jumla.", "Teesra jumla.")
    async with client(fake_app) as oai:
        stream = await oai.audio.transcriptions.create(
            model="whisper-1", file=upload(), stream=True
        )
        events = aiter(stream)
        first = await anext(events)
        # The first segment's text is out while the second is not decoded yet.
        assert first.type == "transcript.text.delta" and first.delta == "Pehla jumla."
        assert script.streamed == ["Pehla jumla."]
        script.next_segment.set()
        rest = [event async for event in events]
    deltas = [e.delta for e in rest if e.type == "transcript.text.delta"]
    assert deltas == [" Doosra jumla.", " Teesra jumla."]
    done = rest[-1]
    assert done.type == "transcript.text.done"
    assert done.text == "Pehla jumla. Doosra jumla. Teesra jumla."


async def test_a_client_that_goes_away_stops_the_decoding(fake_app: RunningApp) -> None:
    script = fake_app.script
    script.segments = tuple(f"Jumla {n}." for n in range(50))
    async with client(fake_app) as oai:
        stream = await oai.audio.transcriptions.create(
            model="whisper-1", file=upload(), stream=True
        )
        assert (await anext(aiter(stream))).type == "transcript.text.delta"
        await stream.close()
    script.next_segment.set()
    # The decoding is closed, not left blocked on a queue nobody reads, and stops
    # long before the end (at most what the bounded queue held meanwhile).
    assert await asyncio.to_thread(script.stream_closed.wait, 60)
    assert len(script.streamed) < 20


async def test_a_bad_parameter_is_a_400_before_the_stream(fake_app: RunningApp) -> None:
    async with client(fake_app) as oai:
        with pytest.raises(openai.BadRequestError) as error:
            await oai.audio.transcriptions.create(
                model="whisper-1",
                file=upload(),
                language="en",
                response_format="srt",
                timestamp_granularities=["word"],
                stream=True,
            )
    assert "timestamp_granularities" in str(error.value)
