"""Cycles record how sure the translator was of the sentence practised.

``confidence`` (0-1) is the phrase bank's match score over 100 or a speech translation's
geometric-mean token probability; it is nullable, and rows from before stay ``NULL``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 13:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable column (in place on SQLite and PostgreSQL alike)."""
    op.add_column("cycles", sa.Column("confidence", sa.Double(), nullable=True))


def downgrade() -> None:
    """Drop the column (the confidences are lost)."""
    # SQLite drops a column without an index or constraint on it in place.
    op.drop_column("cycles", "confidence")
