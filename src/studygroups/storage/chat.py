"""Queries over chat messages and read cursors; they decide nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

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
