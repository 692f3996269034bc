"""Sessions and cycles get a unique ``client_ref``.

The learn layer names a session and a cycle before the database has stored it (a write
may wait in the outbox while the database is down), and a replayed write must find the row
an earlier, unacknowledged attempt may already have stored. Older rows keep ``NULL``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:05:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("sessions", "cycles")


def upgrade() -> None:
    """Add the nullable column and a unique index on it to both tables.

    A unique index rather than a constraint: SQLite adds a constraint only by recreating
    the table, and dropping the old ``sessions`` table would cascade to every turn."""
    for table in _TABLES:
        op.add_column(table, sa.Column("client_ref", sa.String(length=64), nullable=True))
        op.create_index(op.f(f"ix_{table}_client_ref"), table, ["client_ref"], unique=True)


def downgrade() -> None:
    """Drop the indexes and the columns (the references are lost)."""
    for table in reversed(_TABLES):
        op.drop_index(op.f(f"ix_{table}_client_ref"), table_name=table)
        # SQLite drops a column without an index or constraint on it in place.
        op.drop_column(table, "client_ref")
