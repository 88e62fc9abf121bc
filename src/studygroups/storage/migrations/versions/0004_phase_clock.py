"""Phase deadlines owned by the server: a round's timer and a session's auto_advance.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:20:00

session_rounds gains `timer_state` (RUNNING / PAUSED / EXPIRED / NONE), `ends_at` (the running
deadline, kept once EXPIRED) and `timer_remaining_ms` (what a PAUSED timer keeps), with an index
the phase clock reads its nearest deadline from; group_sessions gains `auto_advance`. Rounds
stored before this revision get NONE: a phase entered on a server that ran no clock gets no
deadline (no burst of round.timeUp after an upgrade); its next transition starts one.
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
    op.add_column(
        "session_rounds",
        sa.Column("timer_state", sa.String(16), nullable=False, server_default="NONE"),
    )
    op.add_column("session_rounds", sa.Column("ends_at", sa.DateTime(timezone=True)))
    op.add_column("session_rounds", sa.Column("timer_remaining_ms", sa.Integer()))
    op.create_index("ix_rounds_deadline", "session_rounds", ["timer_state", "ends_at"])
    op.add_column(
        "group_sessions",
        sa.Column("auto_advance", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("group_sessions", "auto_advance")
    op.drop_index("ix_rounds_deadline", table_name="session_rounds")
    op.drop_column("session_rounds", "timer_remaining_ms")
    op.drop_column("session_rounds", "ends_at")
    op.drop_column("session_rounds", "timer_state")
