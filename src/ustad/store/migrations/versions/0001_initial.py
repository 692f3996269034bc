"""Initial schema: learners, sessions, cycles, turns.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 19:39:21+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "learners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learners")),
        sa.UniqueConstraint("external_id", name=op.f("uq_learners_external_id")),
    )

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("language_mode", sa.String(length=16), nullable=False),
        _timestamp("started_at"),
        _timestamp("ended_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_sessions_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_learner_id"), "sessions", ["learner_id"])

    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("urdu_sentence", sa.Text(), nullable=False),
        sa.Column("english_sentence", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("phrase_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.Double(), nullable=True),
        _timestamp("started_at"),
        _timestamp("ended_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'passed', 'skipped', 'abandoned')",
            name=op.f("ck_cycles_status"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_cycles_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )
    op.create_index(op.f("ix_cycles_session_id_status"), "cycles", ["session_id", "status"])

    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("turn_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("language_mode", sa.String(length=16), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("detected_language", sa.String(length=16), nullable=True),
        sa.Column("language_probability", sa.Double(), nullable=True),
        sa.Column("urdu_sentence", sa.Text(), nullable=True),
        sa.Column("english_sentence", sa.Text(), nullable=True),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("overall_score", sa.Double(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("audio_seconds", sa.Double(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint("kind IN ('urdu', 'english')", name=op.f("ck_turns_kind")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
            name=op.f("fk_turns_cycle_id_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_turns_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turns")),
        sa.UniqueConstraint("turn_id", name=op.f("uq_turns_turn_id")),
    )
    op.create_index(op.f("ix_turns_cycle_id"), "turns", ["cycle_id"])
    op.create_index(op.f("ix_turns_session_id_created_at"), "turns", ["session_id", "created_at"])


def downgrade() -> None:
    """Drop everything ``upgrade`` created (all data is lost)."""
    op.drop_index(op.f("ix_turns_session_id_created_at"), table_name="turns")
    op.drop_index(op.f("ix_turns_cycle_id"), table_name="turns")
    op.drop_table("turns")
    op.drop_index(op.f("ix_cycles_session_id_status"), table_name="cycles")
    op.drop_table("cycles")
    op.drop_index(op.f("ix_sessions_learner_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("learners")
