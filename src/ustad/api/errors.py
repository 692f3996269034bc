"""The error every REST route answers with: OpenAI's ``{"error": {...}}`` shape.

``type`` is ``invalid_request_error`` for a 4xx (the request is at fault, or this
client is past its rate) and ``server_error`` for a 5xx (ustad is busy or failed), as
OpenAI's clients expect; ``code`` says more (``busy``, ``internal_error``...)."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An error answered as ``{"error": {...}}`` (the OpenAI error shape)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        *,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
        self.param = param

    @property
    def type(self) -> str:
        """OpenAI's error ``type``: ``server_error`` for a 5xx, else
        ``invalid_request_error``."""
        return "server_error" if self.status >= 500 else "invalid_request_error"

    def response(self) -> JSONResponse:
        """The JSON error response."""
        body = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)
