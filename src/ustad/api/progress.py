"""``GET /v1/learners/{learner_id}/progress``: what a learner has practised so far.

It reads what the learn socket already stores (sessions, cycles, scored attempts), so a
client's history panel needs no storage of its own beyond the learner id it chose.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ustad.api.rest import ApiError, ServicesDep
from ustad.store.models import EXTERNAL_ID_MAX
from ustad.store.repository import LearnerProgress, SentenceProgress

router = APIRouter()


@router.get("/v1/learners/{learner_id}/progress")
async def learner_progress(services: ServicesDep, learner_id: str) -> dict[str, Any]:
    """Sessions, total scored attempts and one entry per English sentence, newest first.

    The id is chosen by the client (``?learner_id=`` on ``/ws/learn``), so an id the
    server has not seen yet is a learner with no history, not a missing resource: the
    answer is an empty history (a brand-new page may ask before its first session is
    stored). Only an id the socket would refuse is an error.
    """
    if len(learner_id) > EXTERNAL_ID_MAX:
        raise ApiError(
            400, f"learner id longer than {EXTERNAL_ID_MAX} characters", "invalid_learner_id"
        )
    progress = await services.repository.learner_progress(learner_id)
    if progress is None:
        progress = LearnerProgress(learner_id, sessions=0, total_attempts=0, sentences=())
    return progress_json(progress)


def progress_json(progress: LearnerProgress) -> dict[str, Any]:
    """The response body for ``progress``."""
    return {
        "learner_id": progress.external_id,
        "sessions": progress.sessions,
        "total_attempts": progress.total_attempts,
        "sentences": [_sentence_json(s) for s in progress.sentences],
    }


def _sentence_json(sentence: SentenceProgress) -> dict[str, Any]:
    return {
        "english": sentence.english,
        "urdu": sentence.urdu,
        "attempts": sentence.attempts,
        "best_score": None if sentence.best_score is None else round(sentence.best_score, 1),
        "passed": sentence.passed,
        "last_practised": sentence.last_practised.isoformat(),
    }
