"""FastAPI dependencies that apply the ``Gatekeeper`` to REST routes, and the token route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ustad.api.auth import AuthError, Caller, Gatekeeper
from ustad.api.errors import ApiError

router = APIRouter()


def gatekeeper(request: Request) -> Gatekeeper:
    """The app's gatekeeper (built in ``create_app``)."""
    gate: Gatekeeper = request.app.state.gatekeeper
    return gate


def _refusal(error: AuthError) -> ApiError:
    code = "unauthorized" if error.status == 401 else "forbidden"
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return ApiError(error.status, str(error), code, headers=headers)


def caller(request: Request) -> Caller:
    """Who is calling (401 when access control is on and no credential is valid)."""
    try:
        return gatekeeper(request).caller(request.headers)
    except AuthError as error:
        raise _refusal(error) from error


def operator(request: Request) -> None:
    """401 unless operator keys are off or the request carries one."""
    try:
        gatekeeper(request).require_operator(request.headers)
    except AuthError as error:
        raise _refusal(error) from error


CallerDep = Annotated[Caller, Depends(caller)]
LearnerOrOperator = Depends(caller)
"""For ``dependencies=[...]`` of routes any authenticated caller may use."""
OperatorOnly = Depends(operator)
"""For ``dependencies=[...]`` of operator routes (metrics, stats, issuing tokens)."""


class TokenRequest(BaseModel):
    """``POST /v1/auth/token``."""

    learner_id: str = Field(min_length=1, max_length=128)


@router.post("/v1/auth/token", dependencies=[OperatorOnly])
async def issue_token(request: Request, body: TokenRequest) -> dict[str, Any]:
    """A learner token for ``learner_id`` (operator key required; 404 when learner tokens
    are not configured). A deployment's own sign-in calls this and hands the token to
    the learner's app, or signs tokens itself with the same secret."""
    try:
        token, ttl = gatekeeper(request).issue(body.learner_id)
    except AuthError as error:
        code = "invalid_learner_id" if error.status == 400 else "tokens_not_configured"
        raise ApiError(error.status, str(error), code) from error
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
        "learner_id": body.learner_id,
    }
