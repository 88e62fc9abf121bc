"""SQLAlchemy 2 models; the schema the Alembic migrations create."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)
USER_ID = String(255)

# Constraint names are PostgreSQL's own defaults, so the names revision 0001 left to the server
# are exactly the names the models give (docs/architecture.md, "Constraint names"). "ix" is
# SQLAlchemy's default, kept. A constraint with an explicit name keeps it.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class User(Base):
    """Learned from token claims on first sight; an invited user may exist before that."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(USER_ID, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope_type: Mapped[str | None] = mapped_column(String(64))
    scope_id: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[str | None] = mapped_column(USER_ID)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_group_members_user", "user_id", "status"),)


class GroupContent(Base):
    """A content of the group's playlist (an id of the learning app's content), in `position`
    order; positions keep their gaps when a content is removed."""

    __tablename__ = "group_contents"
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    content_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("group_id", "position"),)


class GroupSession(Base):
    __tablename__ = "group_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    status: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(32))
    layer: Mapped[str] = mapped_column(String(8))
    content_id: Mapped[str | None] = mapped_column(String(200))
    rounds_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Advance the round when its phase's deadline passes (migration 0004).
    auto_advance: Mapped[bool] = mapped_column(Boolean, server_default=false())

    __table_args__ = (Index("ix_group_sessions_group", "group_id", "status"),)


class SessionMember(Base):
    __tablename__ = "session_members"
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    attendance_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class Round(Base):
    __tablename__ = "session_rounds"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"))
    round_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    prompt_text: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[Any] | None]
    # One of `options`; only facilitators see it before the round is DONE (migration 0003).
    correct_option: Mapped[str | None] = mapped_column(String(500))
    linked_highlight_ids: Mapped[list[Any] | None]
    vote_sec: Mapped[int] = mapped_column(Integer)
    discuss_sec: Mapped[int] = mapped_column(Integer)
    revote_sec: Mapped[int] = mapped_column(Integer)
    explain_sec: Mapped[int] = mapped_column(Integer)
    status_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The phase timer (domain/timer.py, migration 0004): ends_at while RUNNING (kept once
    # EXPIRED), timer_remaining_ms while PAUSED.
    timer_state: Mapped[str] = mapped_column(String(16), server_default="NONE")
    ends_at: Mapped[datetime | None]
    timer_remaining_ms: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("session_id", "round_index", name="uq_round_index"),
        Index("ix_rounds_deadline", "timer_state", "ends_at"),
    )


class Activity(Base):
    """A member's vote, revote or explanation; a later submission replaces the earlier one."""

    __tablename__ = "session_activity"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"))
    round_id: Mapped[str] = mapped_column(ForeignKey("session_rounds.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("round_id", "user_id", "event_type", name="uq_activity_once"),
        Index("ix_activity_session", "session_id", "created_at"),
    )


class SharedCard(Base):
    __tablename__ = "shared_cards"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"))
    round_id: Mapped[str] = mapped_column(ForeignKey("session_rounds.id"), unique=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    explanation: Mapped[str] = mapped_column(Text)
    group_choice: Mapped[str | None] = mapped_column(String(500))
    key_terms: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_shared_cards_session", "session_id"),)


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"))
    round_index: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_chat_session_seq", "session_id", "seq", unique=True),)


class ReadCursor(Base):
    __tablename__ = "chat_read_cursors"
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("chat_messages.id"))
    message_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class EventLogEntry(Base):
    """The session's durable event log: one row per broadcast event, numbered without gaps."""

    __tablename__ = "session_event_log"
    session_id: Mapped[str] = mapped_column(ForeignKey("group_sessions.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class IdempotencyRecord(Base):
    """The first answer to a request sent with an Idempotency-Key, stored with its change."""

    __tablename__ = "idempotency_keys"
    user_id: Mapped[str] = mapped_column(USER_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
