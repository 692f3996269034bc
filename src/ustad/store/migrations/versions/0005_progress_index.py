"""The progress query reads a cycle's turns from one covering index.

``learner_progress`` groups a learner's turns by cycle for the last turn's time and whether
any passed. The single-column ``ix_turns_cycle_id`` found the rows but left every one to be
read from the table; ``ix_turns_cycle_id_created_at_passed`` holds all three columns, so
PostgreSQL can answer from the index alone, and it still serves lookups by ``cycle_id``
(the cascade from ``cycles``), so the old index goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 19:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the covering index, then drop the one it replaces (in place on both)."""
    op.create_index(
        "ix_turns_cycle_id_created_at_passed", "turns", ["cycle_id", "created_at", "passed"]
    )
    op.drop_index("ix_turns_cycle_id", table_name="turns")


def downgrade() -> None:
    """Back to the single-column index."""
    op.create_index("ix_turns_cycle_id", "turns", ["cycle_id"])
    op.drop_index("ix_turns_cycle_id_created_at_passed", table_name="turns")
