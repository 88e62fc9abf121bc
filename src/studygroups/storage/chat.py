"""Queries over chat messages and read cursors; they decide nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Table, func, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from studygroups.storage.tables import ChatMessage, ReadCursor


@dataclass(frozen=True)
class NewMessage:
    """A chat message as it is inserted (the columns of chat_messages)."""

    id: str
    session_id: str
    round_index: int
    user_id: str
    message: str
    seq: int
    created_at: datetime


_INSERT_MESSAGE = insert(cast(Table, ChatMessage.__table__))


async def add_message(db: AsyncSession, message: NewMessage) -> None:
    """Insert as Core on the unit's connection: nothing reads the row back in this transaction,
    so the ORM's unit-of-work flush would only add cost on the hottest write."""
    connection = await db.connection()
    values = {
        "id": message.id,
        "session_id": message.session_id,
        "round_index": message.round_index,
        "user_id": message.user_id,
        "message": message.message,
        "seq": message.seq,
        "created_at": message.created_at,
    }
    await connection.execute(_INSERT_MESSAGE, values)


async def messages(db: AsyncSession, session_id: str, round_index: int | None) -> list[ChatMessage]:
    query = select(ChatMessage).where(ChatMessage.session_id == session_id)
    if round_index is not None:
        query = query.where(ChatMessage.round_index == round_index)
    return list(await db.scalars(query.order_by(ChatMessage.seq)))


async def message(db: AsyncSession, message_id: str) -> ChatMessage | None:
    return await db.get(ChatMessage, message_id)


async def cursor(db: AsyncSession, session_id: str, user_id: str) -> ReadCursor | None:
    return await db.get(ReadCursor, (session_id, user_id))


async def cursors(db: AsyncSession, session_id: str) -> list[ReadCursor]:
    rows = await db.scalars(
        select(ReadCursor).where(ReadCursor.session_id == session_id).order_by(ReadCursor.user_id)
    )
    return list(rows)


async def counts(db: AsyncSession, session_id: str) -> dict[tuple[int, str], int]:
    """How many messages each user posted in each round: {(round_index, user_id): n}."""
    rows = await db.execute(
        select(ChatMessage.round_index, ChatMessage.user_id, func.count())
        .where(ChatMessage.session_id == session_id)
        .group_by(ChatMessage.round_index, ChatMessage.user_id)
    )
    return {(round_index, user_id): int(n) for round_index, user_id, n in rows}


# PostgreSQL only: a whole chat post in one statement, which commits on its own (autocommit).
# The UPDATE takes the session's next seq only when every check of a post passes (the session
# is in the group and not FINISHED, the round exists, the poster is an ACTIVE member), so a
# refused post changes nothing; the two INSERTs read the seq from it. The event's `data` is
# its JSON text with the seq written in between `head` and `tail`.
_POST_AT_ONCE = text(
    """
WITH taken AS (
    UPDATE group_sessions SET last_seq = last_seq + 1
    WHERE id = CAST(:session_id AS varchar)
      AND group_id = CAST(:group_id AS varchar)
      AND status <> CAST(:finished AS varchar)
      AND CAST(:round_index AS integer) BETWEEN 1 AND rounds_count
      AND EXISTS (
          SELECT 1 FROM group_members
          WHERE group_members.group_id = group_sessions.group_id
            AND group_members.user_id = CAST(:user_id AS varchar)
            AND group_members.status = CAST(:active AS varchar))
    RETURNING last_seq,
        (SELECT role FROM session_members
         WHERE session_members.session_id = group_sessions.id
           AND session_members.user_id = CAST(:user_id AS varchar)) AS session_role
), logged AS (
    INSERT INTO session_event_log (session_id, seq, event, data, created_at)
    SELECT CAST(:session_id AS varchar), last_seq, CAST(:event AS varchar),
           CAST(CAST(:head AS text) || last_seq::text || CAST(:tail AS text) AS json),
           CAST(:now AS timestamptz)
    FROM taken
), posted AS (
    INSERT INTO chat_messages (id, session_id, round_index, user_id, message, seq, created_at)
    SELECT CAST(:message_id AS varchar), CAST(:session_id AS varchar),
           CAST(:round_index AS integer), CAST(:user_id AS varchar), CAST(:message AS text),
           last_seq, CAST(:created_at AS timestamptz)
    FROM taken
)
SELECT last_seq, session_role FROM taken
"""
)


@dataclass(frozen=True)
class PostAtOnce:
    """What `post_at_once` writes: the message, and its event's row around the seq to come."""

    message: NewMessage  # `seq` is ignored: the statement takes it
    group_id: str
    event: str
    data_head: str  # the event's JSON text up to its seq ...
    data_tail: str  # ... and after it
    logged_at: datetime  # the event row's created_at
    finished: str  # the session status a post is refused in
    active: str  # the membership status a poster needs


async def post_at_once(db: AsyncConnection, post: PostAtOnce) -> tuple[int, str | None] | None:
    """(the seq taken, the poster's session role), or None when a check refused: nothing was
    written then. `db` must be in autocommit: the statement is its own transaction."""
    message = post.message
    row = (
        await db.execute(
            _POST_AT_ONCE,
            {
                "session_id": message.session_id,
                "group_id": post.group_id,
                "finished": post.finished,
                "round_index": message.round_index,
                "user_id": message.user_id,
                "active": post.active,
                "event": post.event,
                "head": post.data_head,
                "tail": post.data_tail,
                "now": post.logged_at,
                "message_id": message.id,
                "message": message.message,
                "created_at": message.created_at,
            },
        )
    ).first()
    if row is None:
        return None
    seq, session_role = row
    return int(seq), session_role


# SQLite: the same post as three statements and a COMMIT on the writer's own connection
# (Database.sqlite_writer), run in one go on the loop with sqlite3 itself. SQLite has no
# UPDATE inside a WITH, so the seq comes back from the UPDATE and the INSERTs take it; the
# checks are the PostgreSQL statement's. Datetimes are written as SQLAlchemy writes them
# there, so every other query reads these rows as its own.
_SQLITE_TAKE = """
UPDATE group_sessions SET last_seq = last_seq + 1
WHERE id = ? AND group_id = ? AND status <> ? AND ? BETWEEN 1 AND rounds_count
  AND EXISTS (
      SELECT 1 FROM group_members
      WHERE group_members.group_id = group_sessions.group_id
        AND group_members.user_id = ? AND group_members.status = ?)
RETURNING last_seq,
    (SELECT role FROM session_members
     WHERE session_members.session_id = group_sessions.id
       AND session_members.user_id = ?)
"""
_SQLITE_LOG = (
    "INSERT INTO session_event_log (session_id, seq, event, data, created_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
_SQLITE_POST = (
    "INSERT INTO chat_messages (id, session_id, round_index, user_id, message, seq, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_sqlite = sqlite.dialect()
_sqlite_datetime = cast(
    Callable[[Any], Any],
    DateTime(timezone=True).dialect_impl(_sqlite).bind_processor(_sqlite),
)


def post_at_once_sqlite(db: sqlite3.Connection, post: PostAtOnce) -> tuple[int, str | None] | None:
    """`post_at_once` on SQLite's writer connection: committed when it returns a seq, rolled
    back (nothing written) when a check refused. Synchronous: nothing else runs on the loop
    between the UPDATE and the COMMIT."""
    message = post.message
    try:
        taken = db.execute(
            _SQLITE_TAKE,
            (
                message.session_id,
                post.group_id,
                post.finished,
                message.round_index,
                message.user_id,
                post.active,
                message.user_id,
            ),
        ).fetchone()
        if taken is None:
            db.rollback()
            return None
        seq, session_role = taken
        data = f"{post.data_head}{seq}{post.data_tail}"
        logged_at = _sqlite_datetime(post.logged_at)
        db.execute(_SQLITE_LOG, (message.session_id, seq, post.event, data, logged_at))
        db.execute(
            _SQLITE_POST,
            (
                message.id,
                message.session_id,
                message.round_index,
                message.user_id,
                message.message,
                seq,
                _sqlite_datetime(message.created_at),
            ),
        )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return int(seq), session_role
