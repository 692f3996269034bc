"""Where dropped learn sessions wait to be resumed: in this process, or in Redis.

A connection holds one **resume token** (``new_token``: 256 random bits, URL-safe) under
which its session is parked after every message, as a ``Parked`` value: the learner the
session was opened for, and the session's state as the JSON object the learn layer
wrote. A reconnecting client presents the token; ``take`` hands the parked session over
once and forgets the token, so a token resumes at most one connection.

Which connection drives a session is recorded per session reference (its **owner**).
A resumed connection claims the session; the connection it replaces finds when it
``begin``-s its next message that it has lost it, and its later ``park`` calls store
nothing. While a connection handles a message the session is *busy*; a connection that
ends ``release``-s the session first (it is then *closing*), ends it in the database and
reports it ``released``. A claim waits while the session is busy or closing, so a resume
gets the state after the turn in progress, and its re-opening of the stored session is
never overtaken by the end it follows. Both stores keep JSON
only, each entry for ``ttl`` seconds after it was written.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cachetools import TTLCache
from purgatory import AsyncCircuitBreakerFactory
from redis.asyncio import Redis

T = TypeVar("T")
BREAKER_FAILURES = 3
"""Failed Redis calls in a row after which the store fails at once for a while."""
BREAKER_RESET_SECONDS = 10.0
"""How long the store fails at once before it tries Redis again."""

BUSY = "busy:"
"""How an owner record marks a session whose connection is handling a message."""
CLOSING = "closing:"
"""How an owner record marks a session whose connection is ending it."""
TOKEN_BYTES = 32
"""Random bytes in a token (43 URL-safe base64 characters)."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_PARKED_BYTES = 64 * 1024
"""Largest parked value read back (a session's state is a few hundred bytes); a larger
one is refused before it is parsed, so a hostile value cannot stall the event loop."""


def new_token() -> str:
    """A fresh, unguessable resume token (43 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    """Whether ``token`` has a token's exact length and alphabet (checked before any
    look-up, so junk never reaches a store)."""
    return _TOKEN.fullmatch(token) is not None


@dataclass(frozen=True)
class Parked:
    """A session waiting to be resumed.

    ``learner_id`` is who the session was opened for (``None``: an anonymous learner);
    ``state`` is the learn layer's JSON form of the session; ``session_ref`` names it."""

    learner_id: str | None
    session_ref: str
    state: dict[str, Any]

    def to_json(self) -> bytes:
        """The UTF-8 JSON form (``Parked.from_json`` reads it back)."""
        return json.dumps(
            {"learner_id": self.learner_id, "session_ref": self.session_ref, "state": self.state},
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Parked:
        """What ``to_json`` wrote; ``ValueError`` on anything else (also on a value over
        ``MAX_PARKED_BYTES``, or holding ``NaN`` or ``Infinity``)."""
        if len(raw) > MAX_PARKED_BYTES:
            raise ValueError(f"not a parked session: {len(raw)} bytes")
        try:
            data = json.loads(raw, parse_constant=_refuse_constant)
            learner, ref, state = data["learner_id"], data["session_ref"], data["state"]
        except (KeyError, TypeError, RecursionError, json.JSONDecodeError) as error:
            raise ValueError(f"not a parked session: {error}") from error
        if not (learner is None or isinstance(learner, str)) or not isinstance(ref, str):
            raise ValueError("learner_id and session_ref are strings")
        if not isinstance(state, dict):
            raise ValueError("state is an object")
        return cls(learner, ref, state)


class ResumeStore(Protocol):
    """Parked sessions by token, and which connection owns each session.

    An owner record is the owner's id, ``busy:`` and the id while it handles a message,
    or ``closing:`` and the id while it ends the session. Every method may raise the
    backing store's errors (Redis down); callers treat that as "cannot resume" and carry
    on."""

    async def park(self, token: str, parked: Parked, owner: str) -> bool:
        """Keep ``parked`` under ``token`` while ``owner`` still holds the session (or
        nobody does, in which case ``owner`` takes it); whether it was kept. The session
        is no longer busy."""

    async def take(self, token: str) -> Parked | None:
        """The session parked under ``token``, forgetting the token (``None``: unknown
        or expired)."""

    async def claim(self, session_ref: str, owner: str, *, force: bool = False) -> bool:
        """Make ``owner`` the connection that drives the session; false (and nothing
        changes) while its holder is busy with a message or closing, unless ``force``."""

    async def begin(self, session_ref: str, owner: str) -> bool:
        """``owner`` starts handling a message: the session is busy; false (nothing
        changes) if another connection took the session over."""

    async def release(self, session_ref: str, owner: str) -> bool:
        """Mark the session closing if ``owner`` still holds it (or nobody does);
        whether it did (false: another connection took the session over)."""

    async def released(self, session_ref: str, owner: str) -> None:
        """``owner`` finished closing the session: it may be claimed at once."""


def _holds(current: str | None, owner: str) -> bool:
    return current is None or current in (owner, BUSY + owner)


class MemoryResumeStore:
    """A ``ResumeStore`` in this process: at most ``max_entries`` tokens (the oldest go
    first), each for ``ttl`` seconds, kept by their SHA-256. ``clock`` (seconds,
    monotonic) is for tests."""

    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float] | None = None):
        timer = clock if clock is not None else time.monotonic
        self._tokens: TTLCache[str, bytes] = TTLCache(max_entries, ttl, timer=timer)
        self._owners: TTLCache[str, str] = TTLCache(max_entries, ttl, timer=timer)

    async def park(self, token: str, parked: Parked, owner: str) -> bool:
        """See ``ResumeStore.park``."""
        if not _holds(self._owners.get(parked.session_ref), owner):
            return False
        self._owners[parked.session_ref] = owner
        self._tokens[_digest(token)] = parked.to_json()
        return True

    async def take(self, token: str) -> Parked | None:
        """See ``ResumeStore.take``."""
        raw = self._tokens.pop(_digest(token), None)
        return None if raw is None else Parked.from_json(raw)

    async def claim(self, session_ref: str, owner: str, *, force: bool = False) -> bool:
        """See ``ResumeStore.claim``."""
        current = self._owners.get(session_ref, "")
        if not force and current.startswith((BUSY, CLOSING)):
            return False
        self._owners[session_ref] = owner
        return True

    async def begin(self, session_ref: str, owner: str) -> bool:
        """See ``ResumeStore.begin``."""
        if not _holds(self._owners.get(session_ref), owner):
            return False
        self._owners[session_ref] = BUSY + owner
        return True

    async def release(self, session_ref: str, owner: str) -> bool:
        """See ``ResumeStore.release``."""
        if not _holds(self._owners.get(session_ref), owner):
            return False
        self._owners[session_ref] = CLOSING + owner
        return True

    async def released(self, session_ref: str, owner: str) -> None:
        """See ``ResumeStore.released``."""
        if self._owners.get(session_ref) == CLOSING + owner:
            del self._owners[session_ref]


# An owner record of another type (never ustad's) would fail every call: dropped first.
_STRING_ONLY = """
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then redis.call('DEL', KEYS[1]) end
"""
# Whether ARGV[1] holds the session whose owner record is ``current``.
_HOLDS = (
    _STRING_ONLY
    + """
local current = redis.call('GET', KEYS[1])
local holds = (not current) or current == ARGV[1] or current == ('busy:' .. ARGV[1])
"""
)
# KEYS[1] the owner key, KEYS[2] the token's key; ARGV[1] the owner, ARGV[2] the TTL in
# seconds, ARGV[3] the parked JSON.
_PARK = (
    _HOLDS
    + """
if not holds then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
return 1
"""
)
# KEYS[1] the owner key; ARGV[1] the owner, ARGV[2] the TTL, ARGV[3] the record to
# write if ARGV[1] holds the session (``busy:`` or ``closing:`` and the owner).
_MARK = (
    _HOLDS
    + """
if not holds then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[2])
return 1
"""
)
# KEYS[1] the owner key; ARGV[1] the owner, ARGV[2] the TTL, ARGV[3] '1' to force.
_CLAIM = (
    _STRING_ONLY
    + """
local current = redis.call('GET', KEYS[1])
if current and ARGV[3] ~= '1' then
  local kind = string.sub(current, 1, 5)
  if kind == 'busy:' or string.sub(current, 1, 8) == 'closing:' then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
)
# KEYS[1] the owner key; ARGV[1] the owner.
_RELEASED = (
    _STRING_ONLY
    + """
if redis.call('GET', KEYS[1]) == 'closing:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
"""
)
# KEYS[1] the token's key: its value, deleted (a key of another type: deleted, nil).
_TAKE = """
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then
  redis.call('DEL', KEYS[1])
  return false
end
return redis.call('GETDEL', KEYS[1])
"""


class RedisResumeStore:
    """A ``ResumeStore`` in Redis, shared by every worker that uses the same one.

    Keys are ``{prefix}resume:t:{sha256 of the token}`` (the token itself is never
    written) and ``{prefix}resume:o:{session_ref}``; both expire ``ttl`` seconds after
    their last write (Redis ``EX``). Values are JSON. Every change of an owner record is
    one atomic script; a key of another type under these names (not ustad's) is dropped
    by the script that meets it, as nothing. After ``BREAKER_FAILURES`` failed calls
    in a row a breaker makes every call fail at once (``purgatory``'s ``OpenedState``)
    for ``BREAKER_RESET_SECONDS``, so a hung Redis costs a session one socket timeout, not
    one per message."""

    def __init__(self, redis: Redis, prefix: str, ttl: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=BREAKER_FAILURES, default_ttl=BREAKER_RESET_SECONDS
        )
        self._park = redis.register_script(_PARK)
        self._mark = redis.register_script(_MARK)
        self._claim = redis.register_script(_CLAIM)
        self._released = redis.register_script(_RELEASED)
        self._take = redis.register_script(_TAKE)

    def token_key(self, token: str) -> str:
        """The key a token's session is parked under."""
        return f"{self.prefix}resume:t:{_digest(token)}"

    def owner_key(self, session_ref: str) -> str:
        """The key naming the connection that drives a session."""
        return f"{self.prefix}resume:o:{session_ref}"

    async def park(self, token: str, parked: Parked, owner: str) -> bool:
        """See ``ResumeStore.park``."""
        keys = [self.owner_key(parked.session_ref), self.token_key(token)]
        args: list[str | int | bytes] = [owner, self.ttl, parked.to_json()]
        return bool(await self._guarded(lambda: self._park(keys=keys, args=args)))

    async def take(self, token: str) -> Parked | None:
        """See ``ResumeStore.take`` (``GETDEL``: two takers never get the same session)."""
        keys = [self.token_key(token)]
        raw = await self._guarded(lambda: self._take(keys=keys, args=[]))
        return None if raw is None else Parked.from_json(raw)

    async def claim(self, session_ref: str, owner: str, *, force: bool = False) -> bool:
        """See ``ResumeStore.claim``."""
        args: list[str | int] = [owner, self.ttl, "1" if force else "0"]
        keys = [self.owner_key(session_ref)]
        return bool(await self._guarded(lambda: self._claim(keys=keys, args=args)))

    async def begin(self, session_ref: str, owner: str) -> bool:
        """See ``ResumeStore.begin``."""
        return await self._mark_as(session_ref, owner, BUSY + owner)

    async def release(self, session_ref: str, owner: str) -> bool:
        """See ``ResumeStore.release``."""
        return await self._mark_as(session_ref, owner, CLOSING + owner)

    async def released(self, session_ref: str, owner: str) -> None:
        """See ``ResumeStore.released``."""
        keys = [self.owner_key(session_ref)]
        await self._guarded(lambda: self._released(keys=keys, args=[owner]))

    async def _mark_as(self, session_ref: str, owner: str, record: str) -> bool:
        keys = [self.owner_key(session_ref)]
        args: list[str | int] = [owner, self.ttl, record]
        return bool(await self._guarded(lambda: self._mark(keys=keys, args=args)))

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` through the breaker (``OpenedState`` at once while it is open)."""
        breaker = await self._breakers.get_breaker("resume")
        async with breaker:
            return await call()


def resume_store(redis: Redis | None, prefix: str, ttl: int, max_entries: int) -> ResumeStore:
    """The shared store when the worker has Redis, else one in this process."""
    if redis is not None:
        return RedisResumeStore(redis, prefix, ttl)
    return MemoryResumeStore(ttl, max_entries)


def _refuse_constant(constant: str) -> object:
    """``json.loads``' hook for ``NaN`` and ``Infinity``: never in a parked session."""
    raise ValueError(f"not a parked session: {constant}")


def _digest(token: str) -> str:
    """What a store keeps of a token: its SHA-256 in hex (a leaked key resumes nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()
