"""Stored first answers to requests sent with an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from studygroups.storage.tables import IdempotencyRecord


async def get(db: AsyncSession, user_id: str, key: str) -> IdempotencyRecord | None:
    return await db.get(IdempotencyRecord, (user_id, key))


async def purge_before(db: AsyncSession, moment: datetime) -> int:
    result = await db.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < moment)
    )
    return int(getattr(result, "rowcount", 0) or 0)
