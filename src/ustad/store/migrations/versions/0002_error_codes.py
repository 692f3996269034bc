"""Stored error codes become the codes the client received.

Before issue 8 a turn that failed inside ustad was stored as ``internal`` while its
client got ``internal_error``, and an untranslatable Urdu turn as ``untranslatable``
while its client got ``no_valid_audio``. Both are rewritten to what was sent; the
schema does not change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RENAMED = {"internal": "internal_error", "untranslatable": "no_valid_audio"}


def upgrade() -> None:
    """Rewrite the two private codes to the wire codes."""
    for old, new in _RENAMED.items():
        op.execute(f"UPDATE turns SET error_code = '{new}' WHERE error_code = '{old}'")


def downgrade() -> None:
    """Nothing to undo: the old private codes carried no more information."""
