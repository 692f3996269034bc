"""REST endpoints on the real engines over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import RunningApp
from tests.conftest import LearnerClip
from ustad.speech.audio import decode_audio

pytestmark = pytest.mark.models


def client(app: RunningApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://{app.address}", timeout=120)


async def test_speech_in_each_format_and_voice(real_app: RunningApp) -> None:
    async with client(real_app) as http:
        for fmt, media in (("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("wav", "audio/wav")):
            response = await http.post(
                "/v1/audio/speech",
                json={
                    "model": "tts-1",
                    "input": "Good morning, how are you?",
                    "voice": "alloy",
                    "response_format": fmt,
                },
            )
            assert response.status_code == 200 and response.headers["content-type"] == media
            assert 1.0 < decode_audio(response.content).duration < 5.0
        slow = await http.post(
            "/v1/audio/speech",
            json={"input": "Good morning, how are you?", "response_format": "wav", "speed": 0.5},
        )
        fast = await http.post(
            "/v1/audio/speech",
            json={"input": "Good morning, how are you?", "response_format": "wav", "speed": 2.0},
        )
        assert decode_audio(slow.content).duration > 1.5 * decode_audio(fast.content).duration
        urdu = await http.post(
            "/v1/audio/speech",
            json={"input": "آپ کیسے ہیں؟", "voice": "ur", "response_format": "wav"},
        )
        assert decode_audio(urdu.content).duration > 0.5
        mixed = await http.post(
            "/v1/audio/speech",
            json={"input": "You said: آپ کیسے ہیں؟ Now repeat after me.", "response_format": "wav"},
        )
        assert decode_audio(mixed.content).duration > decode_audio(urdu.content).duration


async def test_speech_rejects_bad_requests(real_app: RunningApp) -> None:
    async with client(real_app) as http:
        empty = await http.post("/v1/audio/speech", json={"input": ""})
        assert empty.status_code == 400 and empty.json()["error"]["param"] == "input"
        ogg = await http.post("/v1/audio/speech", json={"input": "hi", "response_format": "ogg"})
        assert ogg.status_code == 400 and ogg.json()["error"]["param"] == "response_format"
        nothing = await http.post("/v1/audio/speech", json={"input": "?!"})
        assert nothing.status_code == 400 and nothing.json()["error"]["code"] == "empty_input"


async def test_transcriptions(real_app: RunningApp, learner_clips: list[LearnerClip]) -> None:
    clip = next(c for c in learner_clips if c.text == "SO MARY WENT ON TO STUDY")
    async with client(real_app) as http:
        files = {"file": ("clip.wav", clip.path.read_bytes(), "audio/wav")}
        plain = await http.post(
            "/v1/audio/transcriptions",
            files=files,
            data={"language": "en", "response_format": "text"},
        )
        assert plain.status_code == 200 and "mary went on to study" in plain.text.lower()
        verbose = (
            await http.post(
                "/v1/audio/transcriptions", files=files, data={"response_format": "verbose_json"}
            )
        ).json()
        assert verbose["language"] == "en" and verbose["duration"] > 1
        assert len(verbose["words"]) >= 5
        junk = await http.post(
            "/v1/audio/transcriptions", files={"file": ("x.wav", b"not audio", "audio/wav")}
        )
        assert junk.status_code == 400
        assert junk.json()["error"]["code"] == "undecodable_audio"


async def test_assessments(real_app: RunningApp, learner_clips: list[LearnerClip]) -> None:
    clip = next(c for c in learner_clips if c.text == "SO MARY WENT ON TO STUDY")
    async with client(real_app) as http:
        files = {"file": ("clip.wav", clip.path.read_bytes(), "audio/wav")}
        good = await http.post(
            "/v1/assessments", files=files, data={"text": "So Mary went on to study."}
        )
        assert good.status_code == 200
        body = good.json()
        assert body["assessment"]["passed"] is True and body["feedback"]
        swapped = await http.post(
            "/v1/assessments",
            files=files,
            data={"text": "So Mary went on to sleep.", "language_mode": "urdu"},
        )
        words = swapped.json()["assessment"]["words"]
        assert [w["status"] for w in words if w["word"] == "sleep"] != ["correct"]
        empty = await http.post(
            "/v1/assessments", files={"file": ("a.wav", b"", "audio/wav")}, data={"text": "hello"}
        )
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_file"


async def test_an_unknown_language_is_a_400(
    real_app: RunningApp, learner_clips: list[LearnerClip]
) -> None:
    files = {"file": ("clip.wav", learner_clips[0].path.read_bytes(), "audio/wav")}
    async with client(real_app) as http:
        response = await http.post("/v1/audio/transcriptions", files=files, data={"language": "xx"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_language"
