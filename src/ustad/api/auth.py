"""Who may do what: learner tokens, operator keys, browser origins and learner ids.

Off by default (``ustad serve`` binds 127.0.0.1): with no ``USTAD_AUTH__JWT_SECRET``
and no ``USTAD_AUTH__API_KEYS`` every local caller is trusted. One setting away:

- a learner presents an HS256 JWT (RFC 7519) whose ``sub`` is their learner id;
- an operator presents one of the API keys (``Authorization: Bearer <key>``);
- browsers may open ``/ws/learn`` only from ustad's own origin or an allowed one
  (cross-site WebSocket hijacking), while a client that sends no ``Origin`` (a
  native app) is let through;
- a learner id is a UUID, or with tokens the token's ``sub``.

See docs/SECURITY.md for the threat model.
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt

from ustad.settings import AuthSettings

ALGORITHM = "HS256"
MAX_SUBJECT_CHARS = 128


class AuthError(Exception):
    """A request without the credentials it needs (``status``: 401 or 403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Caller:
    """Who is asking: a learner (``learner_id``), an operator, or anyone (auth off)."""

    learner_id: str | None = None
    operator: bool = False

    def may_read(self, learner_id: str) -> bool:
        """Whether this caller may read ``learner_id``'s history."""
        return self.operator or self.learner_id == learner_id


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in its canonical form: 36 lowercase characters (any
    version), so one learner cannot be stored under two spellings."""
    if len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _printable_subject(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_SUBJECT_CHARS
        and value.isprintable()
        and value == value.strip()
    )


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Gatekeeper:
    """Checks credentials against ``AuthSettings`` and origins against the allow-list."""

    def __init__(self, settings: AuthSettings, allowed_origins: list[str]) -> None:
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._keys = [key.get_secret_value().encode() for key in settings.api_keys]
        self._ttl = settings.token_ttl_seconds
        self._leeway = settings.leeway_seconds
        self._origins = {origin.rstrip("/").lower() for origin in allowed_origins}

    @property
    def tokens_required(self) -> bool:
        """Learners must present a token."""
        return self._secret is not None

    @property
    def enabled(self) -> bool:
        """Any access control is configured."""
        return self._secret is not None or bool(self._keys)

    def is_operator_key(self, key: str | None) -> bool:
        """Whether ``key`` is one of the operator keys (constant-time comparison)."""
        if key is None:
            return False
        given = key.encode()
        return any(hmac.compare_digest(given, known) for known in self._keys)

    def learner_of(self, token: str | None) -> str:
        """The learner id (``sub``) of a valid token; raises ``AuthError`` otherwise."""
        if self._secret is None:
            raise AuthError("learner tokens are not configured")
        if not token:
            raise AuthError("a learner token is required")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp"]},
                leeway=self._leeway,
            )
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {error}") from error
        subject = claims["sub"]
        if not _printable_subject(subject):
            raise AuthError("the token's sub is not a usable learner id")
        return str(subject)

    def issue(self, learner_id: str) -> tuple[str, int]:
        """A signed token for ``learner_id`` and its lifetime in seconds."""
        if self._secret is None:
            raise AuthError("learner tokens are not configured", status=404)
        if not _printable_subject(learner_id):
            raise AuthError("learner_id must be 1 to 128 printable characters", status=400)
        now = int(time.time())
        claims = {"sub": learner_id, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), self._ttl

    def caller(self, headers: Mapping[str, str]) -> Caller:
        """Who a REST request comes from; raises ``AuthError`` (401) if access control is
        on and it carries neither an operator key nor a valid learner token."""
        if not self.enabled:
            return Caller()
        token = bearer(headers)
        if self.is_operator_key(token):
            return Caller(operator=True)
        if self._secret is None:
            raise AuthError("an operator key is required")
        return Caller(learner_id=self.learner_of(token))

    def require_operator(self, headers: Mapping[str, str]) -> None:
        """Raises ``AuthError`` unless access control is off or an operator key is
        presented. With learner tokens on and no keys set, operator routes are closed to
        everyone (a deployment that signs its own tokens needs no token route)."""
        if self.enabled and not self.is_operator_key(bearer(headers)):
            raise AuthError("an operator key is required")

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """A browser ``Origin`` is ustad's own (same host and port), or allowed."""
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if "*" in self._origins or origin in self._origins:
            return True
        parts = urlsplit(origin)
        return (
            parts.scheme in ("http", "https")
            and host is not None
            and (parts.netloc == host.lower())
        )

    def learner_for_socket(self, requested: str | None, token: str | None) -> str | None:
        """The learner a WebSocket session belongs to; raises ``AuthError`` if refused.

        With tokens, the token's ``sub`` (a different ``learner_id`` is refused); without,
        the requested id, which must be a UUID (``None``: a new anonymous learner)."""
        if self.tokens_required:
            subject = self.learner_of(token)
            if requested is not None and requested != subject:
                raise AuthError("learner_id is not the token's learner", status=403)
            return subject
        if requested is not None and not is_uuid(requested):
            raise AuthError("learner_id must be a UUID", status=400)
        return requested
