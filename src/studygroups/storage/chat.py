"""Queries over chat messages and read cursors; they decide nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studygroups.storage.tables import ChatMessage, ReadCursor


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
