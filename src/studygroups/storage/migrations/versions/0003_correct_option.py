"""A round's correct option: session_rounds.correct_option.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:40:00

Nullable with no default, so rounds stored before it simply have no correct option. Both
backends add and drop a column in place (SQLite ≥ 3.35 drops columns without a table copy).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("session_rounds", sa.Column("correct_option", sa.String(500), nullable=True))


def downgrade() -> None:
    op.drop_column("session_rounds", "correct_option")
