"""Queries of the phase clock: the nearest deadline, due sessions locked, and the claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Integer, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from studygroups.domain.timer import TimerState
from studygroups.storage.tables import GroupSession, Round

_RUNNING = Round.timer_state == str(TimerState.RUNNING)
_SESSIONS = cast(Table, GroupSession.__table__)


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


async def claim(db: AsyncSession, session_ids: Sequence[str], now: datetime) -> Sequence[Round]:
    """Mark these sessions' due RUNNING timers EXPIRED and return those rounds. The condition on
    timer_state makes this the claim: whoever commits it first fired those deadlines."""
    claimed = (
        update(Round)
        .where(Round.session_id.in_(session_ids), _RUNNING, Round.ends_at <= now)
        .values(timer_state=str(TimerState.EXPIRED))
        .returning(Round)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    rounds = (await db.scalars(claimed)).all()
    return sorted(rounds, key=lambda r: (r.session_id, r.round_index))


_TAKE = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"))
    .values(last_seq=_SESSIONS.c.last_seq + bindparam("taken", type_=Integer))
)


async def take_seqs(db: AsyncSession, taking: Sequence[tuple[GroupSession, int]]) -> list[int]:
    """Take `n` seqs of each (locked, loaded) session in one executemany; each one's last seq.

    The rows were read under their lock in this transaction, so `last_seq + n` is the value the
    update writes; the loaded rows are kept truthful for later reads in the transaction."""
    connection = await db.connection()
    await connection.execute(
        _TAKE, [{"session_id": session.id, "taken": n} for session, n in taking]
    )
    lasts = []
    for session, n in taking:
        last = session.last_seq + n
        set_committed_value(session, "last_seq", last)
        lasts.append(last)
    return lasts
