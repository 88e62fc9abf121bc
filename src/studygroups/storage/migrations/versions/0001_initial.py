"""The initial schema: every table of studygroups.storage.tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 16:09:14

Written by hand to match tables.py. Constraints left unnamed there (primary keys, foreign keys,
shared_cards' unique round_id) are left unnamed here too, so each backend names them the same
way for a database made by this migration and one made by metadata.create_all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("name", sa.String(255), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scope_type", sa.String(64), nullable=True),
        sa.Column("scope_id", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.String(255), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("group_id", "user_id"),
    )
    op.create_index("ix_group_members_user", "group_members", ["user_id", "status"])
    op.create_table(
        "group_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("layer", sa.String(8), nullable=False),
        sa.Column("content_id", sa.String(200), nullable=True),
        sa.Column("rounds_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        # tables.py gives last_seq a Python-side default only (default=0), no server default.
        sa.Column("last_seq", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_group_sessions_group", "group_sessions", ["group_id", "status"])
    op.create_table(
        "session_members",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("attendance_status", sa.String(16), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("session_id", "user_id"),
    )
    op.create_table(
        "session_rounds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("round_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("prompt_text", sa.Text(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("linked_highlight_ids", sa.JSON(), nullable=True),
        sa.Column("vote_sec", sa.Integer(), nullable=False),
        sa.Column("discuss_sec", sa.Integer(), nullable=False),
        sa.Column("revote_sec", sa.Integer(), nullable=False),
        sa.Column("explain_sec", sa.Integer(), nullable=False),
        _timestamp("status_changed_at", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "round_index", name="uq_round_index"),
    )
    op.create_table(
        "session_activity",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["session_rounds.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "user_id", "event_type", name="uq_activity_once"),
    )
    op.create_index("ix_activity_session", "session_activity", ["session_id", "created_at"])
    op.create_table(
        "shared_cards",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("round_id", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("group_choice", sa.String(500), nullable=True),
        sa.Column("key_terms", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["session_rounds.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        # unique=True on the column in tables.py: an unnamed unique constraint.
        sa.UniqueConstraint("round_id"),
    )
    op.create_index("ix_shared_cards_session", "shared_cards", ["session_id"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("round_index", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_session_seq", "chat_messages", ["session_id", "seq"], unique=True)
    op.create_table(
        "chat_read_cursors",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["chat_messages.id"]),
        sa.PrimaryKeyConstraint("session_id", "user_id"),
    )
    op.create_table(
        "session_event_log",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["session_id"], ["group_sessions.id"]),
        sa.PrimaryKeyConstraint("session_id", "seq"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    # index=True in tables.py; the name is SQLAlchemy's default "ix_%(column_0_label)s".
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("session_event_log")
    op.drop_table("chat_read_cursors")
    op.drop_index("ix_chat_session_seq", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_shared_cards_session", table_name="shared_cards")
    op.drop_table("shared_cards")
    op.drop_index("ix_activity_session", table_name="session_activity")
    op.drop_table("session_activity")
    op.drop_table("session_rounds")
    op.drop_table("session_members")
    op.drop_index("ix_group_sessions_group", table_name="group_sessions")
    op.drop_table("group_sessions")
    op.drop_index("ix_group_members_user", table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("groups")
    op.drop_table("users")
