"""``GET /v1/learners/{learner_id}/progress``: what a learner has practised so far.

It reads what the learn socket already stores (sessions, cycles, scored attempts), so a
client's history panel needs no storage of its own beyond the learner id it chose.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ustad.api.access import CallerDep
from ustad.api.auth import Gatekeeper, is_uuid
from ustad.api.errors import ApiError
from ustad.api.rest import ServicesDep
from ustad.store.repository import LearnerProgress, SentenceProgress

router = APIRouter()


@router.get("/v1/learners/{learner_id}/progress")
async def learner_progress(
    services: ServicesDep, caller: CallerDep, request: Request, learner_id: str
) -> dict[str, Any]:
    """Sessions, total scored attempts and one entry per English sentence, newest first.

    The id is chosen by the client (``?learner_id=`` on ``/ws/learn``), so an id the
    server has not seen yet is a learner with no history, not a missing resource: the
    answer is an empty history (a brand-new page may ask before its first session is
    stored). Only an id the socket would refuse is an error. With learner tokens, only
    that learner (or an operator) may read it (403). Turns whose replies this worker
    has sent are included: their writes, made while the reply went out, are waited for
    (each turn's at most its writes times ``db.store_timeout_seconds``, plus a second).
    """
    gate: Gatekeeper = request.app.state.gatekeeper
    if gate.tokens_required:
        if not caller.may_read(learner_id):
            raise ApiError(403, "a learner may read only their own progress", "forbidden")
    elif not is_uuid(learner_id):
        raise ApiError(400, "learner id must be a UUID", "invalid_learner_id")
    # A turn's writes run while its reply is sent: a read on that reply must see them.
    await services.learn.recorder.settled()
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
