"""Queries of the phase clock: the nearest deadline, due sessions locked, and the claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studygroups.domain.timer import TimerState
from studygroups.storage.tables import GroupSession, Round

_RUNNING = Round.timer_state == str(TimerState.RUNNING)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; every stored one is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def nearest(db: AsyncSession) -> datetime | None:
    """The earliest RUNNING deadline of any round (the ix_rounds_deadline index answers it)."""
    found = await db.scalar(select(func.min(Round.ends_at)).where(_RUNNING))
    return None if found is None else as_utc(found)


async def lock_due_sessions(
    db: AsyncSession, now: datetime, limit: int, *, skip_locked: bool
) -> Sequence[GroupSession]:
    """Up to `limit` sessions with a RUNNING deadline at or before `now`, locked in id order.

    On PostgreSQL, sessions another process holds are skipped (it is firing them, or a command
    is changing them and the next pass sees the outcome); SQLite has one writer anyway.
    """
    due = select(Round.session_id).where(_RUNNING, Round.ends_at <= now)
    query = (
        select(GroupSession)
        .where(GroupSession.id.in_(due))
        .order_by(GroupSession.id)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return (await db.scalars(query)).all()


async def claim(db: AsyncSession, session_id: str, now: datetime) -> Sequence[Round]:
    """Mark the session's due RUNNING timers EXPIRED and return those rounds. The condition on
    timer_state makes this the claim: whoever commits it first fired those deadlines."""
    claimed = (
        update(Round)
        .where(Round.session_id == session_id, _RUNNING, Round.ends_at <= now)
        .values(timer_state=str(TimerState.EXPIRED))
        .returning(Round)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    rounds = (await db.scalars(claimed)).all()
    return sorted(rounds, key=lambda r: r.round_index)
