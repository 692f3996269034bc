"""The persisted schema: learners, their sessions, learn cycles and answered turns.

Migrations in ``store/migrations/versions`` must create exactly this schema; a test
compares the two after ``upgrade head`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ustad.vocabulary import CycleStatus, TurnKind

__all__ = ["CycleStatus", "TurnKind"]  # the store's users may name them from here

# Fixed names for every constraint and index, so SQLite and PostgreSQL agree and a later
# migration (or SQLite batch mode, which recreates tables) can refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EXTERNAL_ID_MAX = 128
"""Longest learner external id accepted (a UUID is 36 characters)."""
TURN_ID_MAX = 64
"""Longest turn id accepted."""
CLIENT_REF_MAX = 64
"""Longest client reference of a session or cycle accepted (a UUID in hex is 32)."""


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones and stores the UTC wall
    time, which is tagged UTC again on the way out. Naive datetimes are refused because
    their zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention and type map."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - read once by SQLAlchemy at class creation
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(none_as_null=True),
    }


class Learner(Base):
    """Someone learning; ``external_id`` is chosen by the client (e.g. a browser UUID)."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Session(Base):
    """One WebSocket connection of a learner."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    language_mode: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]
    client_ref: Mapped[str | None] = mapped_column(String(CLIENT_REF_MAX), unique=True, index=True)
    """The id the server gave the session before the database had (replays find it by this);
    ``None`` on rows from before migration 0003."""


class Cycle(Base):
    """One Urdu sentence understood and practised in English until passed or left."""

    __tablename__ = "cycles"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'passed', 'skipped', 'abandoned')", name="status"),
        # Serves both "cycles of a session" and "the active cycle of a session".
        Index(None, "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    urdu_sentence: Mapped[str] = mapped_column(Text)
    english_sentence: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(64))
    """Which translator produced ``english_sentence`` (phrase bank, speech model ...)."""
    phrase_id: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None]
    """How sure ``provider`` was of ``english_sentence``, 0-1 (the phrase bank's match
    score over 100, a speech translation's geometric-mean token probability); ``None`` when
    it did not say, and on rows from before migration 0004."""
    status: Mapped[str] = mapped_column(String(16), default=CycleStatus.ACTIVE.value)
    attempts: Mapped[int] = mapped_column(default=0)
    best_score: Mapped[float | None]
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None]
    client_ref: Mapped[str | None] = mapped_column(String(CLIENT_REF_MAX), unique=True, index=True)
    """As ``Session.client_ref``, for a cycle."""


class Turn(Base):
    """One utterance the server answered (``turn_id`` is the protocol's id)."""

    __tablename__ = "turns"
    __table_args__ = (
        CheckConstraint("kind IN ('urdu', 'english')", name="kind"),
        # A session's turns in order (history, replay).
        Index(None, "session_id", "created_at"),
        # A cycle's turns (the cascade from cycles) and, covering, what the progress query
        # reads of them: the last turn's time and whether one passed (migration 0005).
        Index(None, "cycle_id", "created_at", "passed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[str] = mapped_column(String(TURN_ID_MAX), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(64))
    language_mode: Mapped[str] = mapped_column(String(16))
    transcript: Mapped[str | None] = mapped_column(Text)
    detected_language: Mapped[str | None] = mapped_column(String(16))
    language_probability: Mapped[float | None]
    urdu_sentence: Mapped[str | None] = mapped_column(Text)
    english_sentence: Mapped[str | None] = mapped_column(Text)
    assessment: Mapped[dict[str, Any] | None]
    overall_score: Mapped[float | None]
    passed: Mapped[bool | None]
    timings: Mapped[dict[str, Any]]
    """Milliseconds per stage (decode, stt, translate, assess, tts, total)."""
    audio_seconds: Mapped[float | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
