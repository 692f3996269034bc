"""/ws/learn over a real WebSocket to a running app (fake recognisers, real audio path).

Decoding, voice activity detection, assessment, the state machine, storage and
the transport are all real here; only the recognisers and voices are fakes, so
these tests pin the protocol. tests/api/test_learn_cycle_real.py runs the same
cycle on the real models.
"""

from __future__ import annotations

import asyncio
import io
import json
import wave

import numpy as np
import pytest
import websockets
from sqlalchemy import select

from tests.api.conftest import ENGLISH_SENTENCE, RunningApp, connect
from ustad.store.database import Database
from ustad.store.models import Cycle, Turn

LEARNER_1 = "3a1d6c2e-0f4b-4b8e-9d7c-1e2f3a4b5c6d"
LEARNER_2 = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"


def wav_bytes(samples: np.ndarray, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


async def test_whole_cycle_english_mode(
    fake_app: RunningApp, urdu_audio: bytes, english_audio: bytes
) -> None:
    async with connect(fake_app.address, f"?learner_id={LEARNER_1}") as client:
        await client.say(urdu_audio, "english")
        you_said = await client.receive()
        assert you_said.step == "you_said_audio"
        assert you_said.data["response"] == "You said: مجھے پانی چاہیے. Now repeat after me."
        assert you_said.data["english_sentence"] == ENGLISH_SENTENCE
        assert you_said.data["words"] == ["I", "want", "water"]
        assert you_said.data["audio_format"] == "mp3"
        # An ID3-tagged file, or bare MPEG frames (a reply joined from encoded pieces).
        assert you_said.audio and you_said.audio.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3"))
        assert len(you_said.data["turn_id"]) == 32
        assert {"decode", "vad", "stt", "translate", "tts", "total"} <= set(
            you_said.data["timings"]
        )

        await client.ack("you_said_complete")
        prompt = await client.receive()
        assert prompt.step == "repeat_prompt" and prompt.audio is None
        assert prompt.data["urdu_sentence"] == "مجھے پانی چاہیے"

        await client.ack("word_by_word_complete")
        full = await client.receive()
        assert full.step == "full_sentence_audio" and full.audio
        assert full.data["response"] == "Now repeat the full sentence: I want water."

        fake_app.script.english = "I want"
        await client.say(english_audio)
        feedback = await client.receive()
        assert feedback.step == "feedback_step" and feedback.data["is_true"] is False
        words = feedback.data["assessment"]["words"]
        assert [w["status"] for w in words if w["word"] == "water"] == ["omitted"]
        assert "water" in feedback.data["response"]
        assert feedback.audio

        await client.ack("feedback_complete")
        word_by_word = await client.receive()
        assert word_by_word.step == "word_by_word" and word_by_word.audio is None
        assert word_by_word.data["response"] == "Let's practice word-by-word: I want water."

        await client.ack("word_by_word_complete")
        assert (await client.receive()).step == "full_sentence_audio"
        fake_app.script.english = "I want water."
        await client.say(english_audio)
        done = await client.receive()
        assert done.step == "await_next" and done.data["is_true"] is True
        assert done.data["assessment"]["overall"] >= 80
        assert done.data["assessment"]["transcript"] == "I want water."


async def test_urdu_mode_and_binary_utterances(fake_app: RunningApp, urdu_audio: bytes) -> None:
    async with connect(fake_app.address) as client:
        await client.send(urdu_audio)  # a binary frame is an utterance
        you_said = await client.receive()
        assert you_said.step == "you_said_audio"
        assert you_said.data["language_mode"] == "urdu"
        assert you_said.data["response"].startswith("آپ نے کہا:")
        assert "I want water." in you_said.data["response"]
        await client.send({"type": "next_sentence"})
        skipped = await client.receive()
        assert skipped.step == "await_next"
        assert skipped.data["is_true"] is False and skipped.data["skipped"] is True


async def test_english_at_the_urdu_step(fake_app: RunningApp, english_audio: bytes) -> None:
    fake_app.script.language = ("en", 0.97)
    async with connect(fake_app.address) as client:
        await client.say(english_audio, "english")
        edge = await client.receive()
        assert edge.step == "english_input_edge_case"
        assert edge.data["detected_language"] == "en" and edge.audio


async def test_bad_input_between_turns_keeps_the_session(
    fake_app: RunningApp, urdu_audio: bytes, english_audio: bytes
) -> None:
    silence = wav_bytes(np.zeros(16_000 * 2))
    too_long = wav_bytes(0.3 * np.sin(np.arange(16_000 * 25) * 0.05))
    limit = fake_app.settings.limits.max_message_bytes
    cases: list[tuple[object, str, str | None]] = [
        ("{not json", "error", "invalid_json"),
        ({"language_mode": "english"}, "", None),  # mode only: no reply
        ({}, "error", "no_audio"),
        ({"audio_base64": ""}, "error", "no_audio"),
        ({"audio_base64": "%%%%"}, "error", "bad_base64"),
        ({"audio_base64": "aGVsbG8gd29ybGQ="}, "error", "undecodable_audio"),
        (b"\x00\x01 not audio at all", "error", "undecodable_audio"),
        (b"\x00" * (limit + 1), "error", "message_too_large"),
        ({"type": "bogus"}, "error", "unknown_message"),
        ({"type": "feedback_complete"}, "", None),  # stale ack: ignored
    ]
    async with connect(fake_app.address) as client:

        async def throw_everything() -> None:
            for message, step, code in cases:
                await client.send(message)  # type: ignore[arg-type]
                if not step:
                    assert await client.nothing_pending()
                    continue
                reply = await client.receive()
                assert reply.step == step, (message, reply.data)
                assert reply.data["code"] == code and reply.data["response"]
                assert reply.audio is None
            await client.say(silence)
            assert (await client.receive()).step == "no_speech"
            await client.say(too_long)
            reply = await client.receive()
            assert (reply.step, reply.data["code"]) == ("error", "audio_too_long")

        await throw_everything()  # at the Urdu step
        await client.say(urdu_audio)
        assert (await client.receive()).step == "you_said_audio"
        await client.ack("you_said_complete")
        assert (await client.receive()).step == "repeat_prompt"
        await client.ack("word_by_word_complete")
        assert (await client.receive()).step == "full_sentence_audio"
        await throw_everything()  # at the repeat step: still there afterwards
        await client.say(english_audio)
        assert (await client.receive()).step == "await_next"


async def test_turns_are_stored_before_the_next_message_is_handled(
    fake_app: RunningApp, urdu_audio: bytes
) -> None:
    """A turn is written after its reply leaves (the learner does not wait for the
    database) and before the session reads the client's next message."""
    database = Database(fake_app.settings.db.url)
    try:
        async with connect(fake_app.address, f"?learner_id={LEARNER_2}") as client:
            await client.say(urdu_audio, "english")
            you_said = await client.receive()
            await client.send({"type": "next_sentence"})
            assert (await client.receive()).step == "await_next"
            # The next message was answered, so the first turn and its cycle are stored.
            async with database.session() as session:
                turn = (
                    await session.execute(
                        select(Turn).where(Turn.turn_id == you_said.data["turn_id"])
                    )
                ).scalar_one()
                assert turn.step == "you_said_audio" and turn.english_sentence == ENGLISH_SENTENCE
                assert turn.timings["stt"] >= 0
                # next_sentence's own write (the cycle skipped) is made before its reply.
                cycles = (await session.execute(select(Cycle))).scalars().all()
                assert [c.status for c in cycles] == ["skipped"]
    finally:
        await database.close()


async def test_many_sessions_at_once(fake_app: RunningApp, urdu_audio: bytes) -> None:
    async def one() -> str:
        async with connect(fake_app.address) as client:
            await client.say(urdu_audio)
            return (await client.receive()).step

    assert await asyncio.gather(*(one() for _ in range(8))) == ["you_said_audio"] * 8


async def test_health_and_phrases(fake_app: RunningApp) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{fake_app.address}") as http:
        health = (await http.get("/health")).json()
        assert health["status"] == "ok" and health["database"] == "ok"
        phrases = (await http.get("/v1/phrases")).json()
        assert phrases["total"] >= 300
        assert json.dumps(phrases, ensure_ascii=False)


async def test_the_socket_refuses_per_message_deflate(fake_app: RunningApp) -> None:
    """A compressed frame would be inflated before ustad could check its size."""
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    url = f"ws://{fake_app.address}/ws/learn"
    async with websockets.connect(
        url, extensions=[ClientPerMessageDeflateFactory()], compression=None
    ) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        assert ws.protocol.extensions == []


async def test_a_frame_far_past_the_limit_is_refused_before_it_is_buffered(
    fake_app: RunningApp,
) -> None:
    from websockets.exceptions import ConnectionClosed

    huge = b"\x00" * (fake_app.settings.limits.max_message_bytes + 2 * 1024 * 1024)
    url = f"ws://{fake_app.address}/ws/learn"
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:  # while sending or after
            await _send_then_receive(ws, huge)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def _send_then_receive(ws: websockets.ClientConnection, data: bytes) -> None:
    await ws.send(data)
    await asyncio.wait_for(ws.recv(), 30)
