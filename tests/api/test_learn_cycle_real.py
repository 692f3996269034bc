"""The whole learn cycle on the real local engines, over a real WebSocket.

Real Urdu speech goes in, Whisper base transcribes and translates it, Piper and
espeak-ng speak the replies, tiny.en hears the English attempts and the
assessment scores them. The attempts are a real learner's clip of another
sentence (must fail) and the target itself spoken by Piper (must pass).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.conftest import RunningApp, connect
from tests.conftest import LearnerClip, UrduClip
from ustad.speech.audio import decode_audio

pytestmark = pytest.mark.models


async def speak(app: RunningApp, text: str) -> bytes:
    async with httpx.AsyncClient(base_url=f"http://{app.address}", timeout=60) as http:
        response = await http.post(
            "/v1/audio/speech", json={"input": text, "voice": "en", "response_format": "wav"}
        )
        response.raise_for_status()
        return response.content


@pytest.mark.parametrize("mode", ["english", "urdu"])
async def test_cycle_from_real_urdu_to_a_pass(
    real_app: RunningApp, urdu_clips: list[UrduClip], learner_clips: list[LearnerClip], mode: str
) -> None:
    async with connect(real_app.address, f"?learner_id={uuid.uuid4()}") as client:
        # The shorter clip: Whisper base's translation of the longer one is refused as
        # too unsure with some instruction sets' int8 kernels (docs/measurements.md).
        shortest = min(urdu_clips, key=lambda clip: clip.path.stat().st_size)
        await client.say(shortest.path.read_bytes(), mode)
        you_said = await client.receive()
        assert you_said.step == "you_said_audio", you_said.data
        urdu = you_said.data["urdu_sentence"]
        english = you_said.data["english_sentence"]
        assert any("\u0600" <= ch <= "\u06ff" for ch in urdu), "Urdu script expected"
        assert english and english.isascii() and you_said.data["words"]
        spoken = decode_audio(you_said.audio or b"")
        assert spoken.duration > 1.0  # really spoken, not an empty frame
        if mode == "english":
            assert you_said.data["response"].startswith("You said: ")
        else:
            assert english in you_said.data["response"]

        await client.ack("you_said_complete")
        assert (await client.receive()).step == "repeat_prompt"
        await client.ack("word_by_word_complete")
        full = await client.receive()
        assert full.step == "full_sentence_audio" and full.audio

        # A real learner saying a different sentence must not pass.
        other = next(c for c in learner_clips if c.text.split()[0] not in english.upper())
        await client.say(other.path.read_bytes())
        feedback = await client.receive()
        assert feedback.step == "feedback_step", feedback.data
        assert feedback.data["is_true"] is False and feedback.audio
        assert feedback.data["assessment"]["transcript"]
        await client.ack("feedback_complete")
        assert (await client.receive()).step == "word_by_word"
        await client.ack("word_by_word_complete")
        assert (await client.receive()).step == "full_sentence_audio"

        # The target said clearly passes.
        await client.say(await speak(real_app, english), audio_format="wav")
        done = await client.receive()
        assert done.step == "await_next", done.data
        assert done.data["is_true"] is True and done.audio
        assert done.data["timings"]["stt"] > 0


async def test_english_spoken_at_the_urdu_step(
    real_app: RunningApp, learner_clips: list[LearnerClip]
) -> None:
    clean = next(c for c in learner_clips if c.text == "SO MARY WENT ON TO STUDY")
    async with connect(real_app.address) as client:
        await client.say(clean.path.read_bytes(), "english")
        edge = await client.receive()
        assert edge.step == "english_input_edge_case", edge.data
        assert edge.data["detected_language"] == "en" and edge.audio
