"""GET /v1/learners/{id}/progress over what the learn socket stored (fake engines)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.api.conftest import ENGLISH_SENTENCE, URDU_SENTENCE, RunningApp, connect
from tests.conftest import LearnerClip, UrduClip

LEARNER_1 = "6f1c2f4e-7d0a-4c47-9a0e-2b1f3c4d5e60"
LEARNER_2 = "0b7e9a31-5c2d-4e8f-8a1b-9c0d1e2f3a40"


async def progress(app: RunningApp, learner_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://{app.address}") as http:
        return await http.get(f"/v1/learners/{learner_id}/progress")


async def test_attempts_and_best_score_of_a_practised_sentence(
    web_app: RunningApp, urdu_clips: list[UrduClip], learner_clips: list[LearnerClip]
) -> None:
    urdu, english = urdu_clips[0].path.read_bytes(), learner_clips[2].path.read_bytes()
    async with connect(web_app.address, f"?learner_id={LEARNER_1}") as client:
        await client.say(urdu, "english")
        assert (await client.receive()).step == "you_said_audio"
        await client.ack("you_said_complete")
        assert (await client.receive()).step == "repeat_prompt"
        await client.ack("word_by_word_complete")
        assert (await client.receive()).step == "full_sentence_audio"
        web_app.script.english = "I want"  # one word missed: a failed attempt
        await client.say(english)
        failed = await client.receive()
        assert failed.step == "feedback_step"
        await client.ack("feedback_complete")
        assert (await client.receive()).step == "word_by_word"
        await client.ack("word_by_word_complete")
        assert (await client.receive()).step == "full_sentence_audio"
        web_app.script.english = "I want water"
        await client.say(english)
        passed = await client.receive()
        assert passed.step == "await_next" and passed.data["is_true"] is True

    response = await progress(web_app, LEARNER_1)
    assert response.status_code == 200
    body = response.json()
    assert body["learner_id"] == LEARNER_1
    assert body["sessions"] == 1 and body["total_attempts"] == 2
    [sentence] = body["sentences"]
    assert sentence["english"] == ENGLISH_SENTENCE and sentence["urdu"] == URDU_SENTENCE
    assert sentence["attempts"] == 2 and sentence["passed"] is True
    assert sentence["best_score"] == round(passed.data["assessment"]["overall"], 1)
    assert sentence["best_score"] > failed.data["assessment"]["overall"]
    assert datetime.fromisoformat(sentence["last_practised"]).tzinfo is not None


async def test_a_learner_who_connected_but_did_not_practise(web_app: RunningApp) -> None:
    async with connect(web_app.address, f"?learner_id={LEARNER_2}") as client:
        # Any reply means the session is stored (it is, before the first message is read).
        await client.send("not json")
        assert (await client.receive()).data["code"] == "invalid_json"
    body = (await progress(web_app, LEARNER_2)).json()
    assert body == {
        "learner_id": LEARNER_2,
        "sessions": 1,
        "total_attempts": 0,
        "sentences": [],
    }


async def test_an_unknown_learner_has_an_empty_history(web_app: RunningApp) -> None:
    never_seen = "5d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
    response = await progress(web_app, never_seen)
    assert response.status_code == 200
    assert response.json() == {
        "learner_id": never_seen,
        "sessions": 0,
        "total_attempts": 0,
        "sentences": [],
    }


async def test_an_id_too_long_for_the_store_is_refused(web_app: RunningApp) -> None:
    response = await progress(web_app, "x" * 129)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_learner_id"


@pytest.mark.parametrize("learner_id", ["not-a-uuid", "x" * 129, "a%00b", "a%0D%0Ab"])
async def test_a_learner_id_that_is_no_uuid_is_refused(
    web_app: RunningApp, learner_id: str
) -> None:
    response = await progress(web_app, learner_id)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_learner_id"
