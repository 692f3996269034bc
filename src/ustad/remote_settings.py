"""Settings of the remote OpenAI-compatible providers (``USTAD_REMOTE_*``).

Each provider is off until its ``base_url`` is set, so the default stays the offline,
all-local set-up. With one set, that provider is asked first and the local engine
answers whenever it fails, is too slow or its circuit breaker is open.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MIB = 1024 * 1024
DEADLINE_MARGIN_SECONDS = 5.0
"""A call's default deadline past one attempt's ``timeout_seconds``: room for a quick
retry after a fast failure (a reset, a 503), none for a second slow attempt."""


class RemoteProviderSettings(BaseModel):
    """One remote OpenAI-compatible provider: where it is, how long to wait, how hard
    to try, when to stop asking."""

    # A rejected base_url may hold a password: errors never repeat the value.
    model_config = ConfigDict(
        use_attribute_docstrings=True, extra="forbid", hide_input_in_errors=True
    )

    base_url: str | None = None
    """The provider's OpenAI-compatible API root, e.g. ``http://gpu-box:8000/v1``
    (``None``: the provider is off and the local engine answers)."""
    api_key: SecretStr | None = None
    """Sent as ``Authorization: Bearer <key>`` (``None``: no header)."""
    model: str = ""
    """The ``model`` named in every request."""
    connect_timeout_seconds: float = Field(default=2.0, gt=0.0, le=60.0)
    """Longest wait for a new TCP (and TLS) connection."""
    timeout_seconds: float = Field(default=10.0, gt=0.0, le=600.0)
    """Longest one attempt may take to send its request and read each part of the answer;
    past it the attempt fails as ``timeout`` (and may be retried)."""
    deadline_seconds: float | None = Field(default=None, gt=0.0, le=3600.0)
    """Longest one call may take with all its attempts and the pauses between them; past
    it the call fails as ``timeout`` and the local engine answers. ``None``:
    ``timeout_seconds`` plus ``DEADLINE_MARGIN_SECONDS`` (5 s), so a slow provider costs
    about one attempt, not ``(1 + retries) * timeout_seconds``."""
    retries: int = Field(default=2, ge=0, le=10)
    """Attempts after the first for failures that may pass (connection refused or reset,
    timeout, 429, 5xx); a 4xx other than 429 or a malformed answer is not retried."""
    backoff_seconds: float = Field(default=0.1, ge=0.0, le=30.0)
    """Base of the jittered exponential backoff between attempts (random up to
    ``backoff_seconds * 2**attempt``, capped by ``backoff_max_seconds``)."""
    backoff_max_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    """Longest pause between two attempts."""
    max_connections: int = Field(default=16, ge=1, le=1024)
    """Connections the provider's pooled client holds open at once (more calls wait)."""
    max_keepalive_connections: int = Field(default=8, ge=0, le=1024)
    """Idle connections kept for reuse (HTTP keep-alive)."""
    keepalive_seconds: float = Field(default=30.0, ge=0.0, le=3600.0)
    """How long an idle pooled connection is kept before it is closed."""
    breaker_failures: int = Field(default=5, ge=1, le=1000)
    """Failed calls in a row (after their retries) that open the circuit breaker: while
    open, calls fail at once and the local engine answers."""
    breaker_reset_seconds: float = Field(default=30.0, gt=0.0, le=3600.0)
    """How long the breaker stays open before one probe call is let through (half-open);
    its success closes the breaker, its failure opens it again."""
    max_response_bytes: int = Field(default=1 * MIB, ge=1024, le=256 * MIB)
    """Largest answer read; a longer one is refused (``too_large``) without reading it
    all."""

    @property
    def deadline(self) -> float:
        """Seconds one call may take with its retries (``deadline_seconds``, or
        ``timeout_seconds`` plus ``DEADLINE_MARGIN_SECONDS``)."""
        if self.deadline_seconds is not None:
            return self.deadline_seconds
        return self.timeout_seconds + DEADLINE_MARGIN_SECONDS

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """An ``http://`` or ``https://`` URL with a host and no user name or password,
        query or fragment (``ValueError`` otherwise: credentials in a URL end up in logs;
        the key goes in ``api_key``); "" is off. The error never repeats the URL."""
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            raise ValueError("base_url is not a valid URL") from None
        if not url.host:
            raise ValueError("base_url has no host")
        if url.userinfo:
            raise ValueError("base_url must not hold a user name or password: use api_key")
        if url.query or url.fragment or "?" in value or "#" in value:
            raise ValueError("base_url must not have a query or fragment: use api_key")
        return value


class RemoteSttSettings(RemoteProviderSettings):
    """Speech recognition by a remote ``/audio/transcriptions`` (speaches, vLLM, OpenAI,
    another ustad); language identification and target support stay local."""

    model: str = "whisper-1"
    """The ``model`` of transcription requests."""


class RemoteTtsSettings(RemoteProviderSettings):
    """Speech synthesis by a remote ``/audio/speech`` (WAV, decoded by ustad's bounded
    decoder at the provider's own sample rate)."""

    model: str = "tts-1"
    """The ``model`` of speech requests."""
    timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    """Longest one attempt may take (as for every provider; speech takes longer)."""
    max_response_bytes: int = Field(default=16 * MIB, ge=1024, le=256 * MIB)
    """Largest audio answer read (16 MiB: about 6 minutes of 22 kHz 16-bit WAV)."""
    voices: dict[str, str] = {"en": "alloy"}
    """The remote voice for each language ustad speaks remotely (``en``, ``ur``); a
    language not named here is always said by the local voice."""


class RemoteTranslationSettings(RemoteProviderSettings):
    """Urdu to English by a remote ``/chat/completions`` (an LLM on vLLM, Ollama or
    OpenAI), asked for the Urdu-script form and the English translation as JSON; asked
    after the phrase bank and before Whisper's speech translation."""

    model: str = "gpt-4o-mini"
    """The chat model."""
    timeout_seconds: float = Field(default=20.0, gt=0.0, le=600.0)
    """Longest one attempt may take (as for every provider; a chat answer takes longer)."""
    max_tokens: int = Field(default=400, ge=16, le=8192)
    """``max_tokens`` of the chat request (the JSON answer for one sentence)."""
    json_mode: bool = True
    """Send ``response_format: {"type": "json_object"}`` (off for servers that refuse
    it; the prompt asks for JSON either way)."""
