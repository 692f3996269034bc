"""Resuming a dropped ``/ws/learn`` session on any worker (docs/protocol-notes.md).

Each connection has one resume token, sent on every server message; after each
message the connection parks its session's state under that token in the
``ResumeStore``. A client that reconnects with ``?resume_token=`` gets that session
back (same stored session, same cycle, same state) under a new token; the token it
presented is spent. The later connection wins: the one it replaces is closed with
``SUPERSEDED`` on its next message and does not end the stored session.

A resume that fails (a token that is malformed, unknown, expired or another learner's,
or a store that does not answer) is never an error: the connection starts a new
session and the first message says ``resumed: false`` with a ``reason``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from ustad.learn.session import LearnSession, SessionState
from ustad.runtime.resume_store import Parked, ResumeStore, new_token, well_formed

log = logging.getLogger(__name__)

SUPERSEDED = 4000
"""WebSocket close code (application range) for a connection whose session was resumed
by a newer connection; its client should not reconnect on its own."""
MAX_TOKEN_CHARS = 64
"""Longest ``resume_token`` query value even looked at (a real one has 43)."""
CLAIM_WAIT_SECONDS = 15.0
"""Longest a resume waits for the dropped connection to finish the turn it is answering
and to end the session (a database write bounded by the recorder's timeout); then it
takes the session anyway (that connection's worker may have died)."""
CLAIM_POLL_SECONDS = 0.05

FailReason = Literal["malformed", "unknown", "unavailable"]


@dataclass(frozen=True)
class _Found:
    session_ref: str
    state: SessionState


@dataclass(frozen=True)
class Restored:
    """What a presented token gave: the session's state, or why there is none."""

    state: SessionState | None
    reason: FailReason | None = None


class Resumption:
    """One connection's side of resuming: its token, its owner id, and its parking.

    ``store`` is ``None`` when resuming is off (no token is issued). Store errors are
    logged and swallowed: resuming is a convenience, never a reason to fail a lesson."""

    def __init__(self, store: ResumeStore | None, learner_id: str | None) -> None:
        self.store = store
        self.learner_id = learner_id
        self.token = new_token() if store is not None else None
        self.owner = new_token()
        """This connection's id as a session's owner (random, never sent)."""

    async def restore(self, presented: str) -> Restored:
        """The session parked under ``presented`` if this learner may have it; the token
        is spent either way. Bad input is refused before any look-up."""
        if self.store is None:
            return Restored(None, "unknown")
        if len(presented) > MAX_TOKEN_CHARS or not well_formed(presented):
            return Restored(None, "malformed")
        store = self.store
        try:
            first = self._usable(await store.take(presented))
            if first is None:
                return Restored(None, "unknown")
            # The dropped connection may still be answering a turn, or ending the session:
            # wait for it, then take what it parked last under the same token.
            await self._claim(store, first.session_ref)
            latest = self._usable(await store.take(presented))
        except ValueError:
            log.warning("a parked session could not be read; starting anew")
            return Restored(None, "unknown")
        except Exception as error:
            log.warning("resume store unavailable (%r); starting a new session", error)
            return Restored(None, "unavailable")
        chosen = latest if latest is not None and latest.session_ref == first.session_ref else first
        return Restored(chosen.state)

    def _usable(self, parked: Parked | None) -> _Found | None:
        """A parked session this learner may resume, read (``None``: not one)."""
        if parked is None:
            return None
        if parked.learner_id != self.learner_id:
            # Quietly: the answer is the same as for a token that does not exist.
            log.warning("a resume token of another learner was presented; starting anew")
            return None
        try:
            state = SessionState.from_dict(parked.state)
        except ValueError:
            log.warning("a parked session state could not be read; starting anew")
            return None
        if state.session_ref != parked.session_ref or state.session_ref is None:
            return None
        return _Found(state.session_ref, state)

    async def _claim(self, store: ResumeStore, session_ref: str) -> None:
        """Own the session once the connection that dropped it has finished ending it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLAIM_WAIT_SECONDS
        while not await store.claim(session_ref, self.owner):
            if loop.time() >= deadline:
                log.warning("session %s was still closing; taking it over", session_ref)
                await store.claim(session_ref, self.owner, force=True)
                return
            await asyncio.sleep(CLAIM_POLL_SECONDS)

    async def park(self, session: LearnSession) -> None:
        """Keep the session's current state under this connection's token."""
        if self.store is None or self.token is None or session.session_ref is None:
            return
        parked = Parked(self.learner_id, session.session_ref, session.state.to_dict())
        try:
            await self.store.park(self.token, parked, self.owner)
        except Exception as error:
            log.warning("could not park session %s (%r)", session.label, error)

    async def release(self, session: LearnSession) -> bool:
        """Start ending the session: true if this connection still drives it (or the
        store cannot say), false if another connection took it over."""
        if self.store is None or session.session_ref is None:
            return True
        try:
            return await self.store.release(session.session_ref, self.owner)
        except Exception as error:
            log.warning("resume store unavailable (%r); ending the session", error)
            return True

    async def released(self, session: LearnSession) -> None:
        """The session is ended in the store: a resume may claim it now."""
        if self.store is None or session.session_ref is None:
            return
        try:
            await self.store.released(session.session_ref, self.owner)
        except Exception as error:
            log.warning("resume store unavailable (%r)", error)

    async def begin(self, session: LearnSession) -> bool:
        """Whether this connection still drives the session, marking it busy with a
        message (true if the store cannot say: a store that is down must not stop a
        lesson)."""
        if self.store is None or session.session_ref is None:
            return True
        try:
            return await self.store.begin(session.session_ref, self.owner)
        except Exception as error:
            log.warning("resume store unavailable (%r); keeping the session", error)
            return True
