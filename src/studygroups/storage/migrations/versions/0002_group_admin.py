"""Group administration: the group's content playlist (table group_contents); constraint names.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:30:00

Written by hand to match tables.py. Constraints are named by tables.py's naming convention,
which gives PostgreSQL's own default names (docs/architecture.md, "Constraint names"):

- PostgreSQL: 0001's unnamed constraints already carry exactly those names; nothing to do.
- SQLite keeps no name for an unnamed constraint, so an SQLite database that 0001 made before
  the convention existed has anonymous primary, foreign and unique keys. Each such table is
  rebuilt here (batch mode: copy, drop, rename; every row kept) with the convention's names,
  so every database has the same names and later revisions can alter constraints by name.

The downgrade drops only the playlists; the names stay (0001's code never looks at them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# tables.py's NAMING_CONVENTION as of this revision (a migration must not follow later edits).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
}

TABLES_OF_0001 = (
    "users",
    "groups",
    "group_members",
    "group_sessions",
    "session_members",
    "session_rounds",
    "session_activity",
    "shared_cards",
    "chat_messages",
    "chat_read_cursors",
    "session_event_log",
    "idempotency_keys",
)


def _has_anonymous_constraints(connection: Connection, table: str) -> bool:
    inspector = sa.inspect(connection)
    names = [inspector.get_pk_constraint(table)["name"]]
    names += [fk["name"] for fk in inspector.get_foreign_keys(table)]
    names += [uq["name"] for uq in inspector.get_unique_constraints(table)]
    return any(name is None for name in names)


def _name_sqlite_constraints() -> None:
    connection = op.get_bind()
    for table in TABLES_OF_0001:
        if _has_anonymous_constraints(connection, table):
            # Batch mode reflects the table; the convention names what it finds unnamed.
            with op.batch_alter_table(
                table, recreate="always", naming_convention=NAMING_CONVENTION
            ):
                pass


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _name_sqlite_constraints()
    op.create_table(
        "group_contents",
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("content_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("group_contents_group_id_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name=op.f("group_contents_added_by_fkey")
        ),
        sa.PrimaryKeyConstraint("group_id", "content_id", name=op.f("group_contents_pkey")),
        sa.UniqueConstraint(
            "group_id", "position", name=op.f("group_contents_group_id_position_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("group_contents")
