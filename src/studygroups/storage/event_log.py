"""The session event log: append with the session's next seq inside the caller's transaction.

`seq` comes from `UPDATE group_sessions SET last_seq = last_seq + n … RETURNING last_seq`, so
the row lock it takes numbers concurrent writers one after the other and a rollback takes its
numbers back with it: the log has no gaps (docs/architecture.md, "The event pipeline").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from studygroups.domain.events import DomainEvent
from studygroups.storage import driver
from studygroups.storage.database import json_loads
from studygroups.storage.tables import EventLogEntry, GroupSession


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, as every payload's `timestamp` (a naive
    `moment` is UTC already). Formatted by hand: strftime costs several times more, and every
    event, answer and signal carries a timestamp."""
    if moment.tzinfo is not None and moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 -- the fastest here
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )


@dataclass(frozen=True)
class StoredEvent:
    """A durable event as kept and as broadcast: `data` is the exact payload clients receive."""

    session_id: str
    seq: int
    event: str
    data: dict[str, Any]
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event": self.event,
            "data": self.data,
            "created_at": self.created_at,
        }


_SESSIONS = cast(Table, GroupSession.__table__)
# Built once, executed as Core on the unit's connection: every durable change runs these.
_TAKE_SEQS = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"))
    .values(last_seq=_SESSIONS.c.last_seq + bindparam("taken", type_=Integer))
    .returning(_SESSIONS.c.last_seq)
)
_INSERT = insert(cast(Table, EventLogEntry.__table__))


async def append(
    db: AsyncSession, session_id: str, events: Sequence[DomainEvent], now: datetime
) -> list[StoredEvent]:
    """Number and store `events` for one session; visible to others only when the caller commits."""
    if not events:
        return []
    connection = await db.connection()
    result = await connection.execute(_TAKE_SEQS, {"session_id": session_id, "taken": len(events)})
    last: int = result.scalar_one()
    loaded = db.identity_map.get(identity_key(GroupSession, (session_id,)))
    if loaded is not None:  # keep a session row read earlier in this transaction truthful
        set_committed_value(loaded, "last_seq", last)
    return await store_numbered(db, session_id, events, last, now)


async def store_numbered(
    db: AsyncSession, session_id: str, events: Sequence[DomainEvent], last: int, now: datetime
) -> list[StoredEvent]:
    """Store `events` as seqs `last - len(events) + 1 .. last`, which this transaction took with
    `last_seq = last_seq + len(events)` (as `append` does, or a query that also reads)."""
    return await store_numbered_many(db, [(session_id, last, events)], now)


async def store_numbered_many(
    db: AsyncSession,
    batches: Sequence[tuple[str, int, Sequence[DomainEvent]]],
    now: datetime,
) -> list[StoredEvent]:
    """`store_numbered` for several sessions in one INSERT (an executemany)."""
    timestamp = iso_timestamp(now)
    stored: list[StoredEvent] = []
    rows: list[dict[str, Any]] = []
    for session_id, last, events in batches:
        stored_of, rows_of = _numbered(session_id, events, last, now, timestamp)
        stored.extend(stored_of)
        rows.extend(rows_of)
    if rows:
        connection = await db.connection()
        await connection.execute(_INSERT, rows[0] if len(rows) == 1 else rows)
    return stored


def _numbered(
    session_id: str, events: Sequence[DomainEvent], last: int, now: datetime, timestamp: str
) -> tuple[list[StoredEvent], list[dict[str, Any]]]:
    stored: list[StoredEvent] = []
    rows: list[dict[str, Any]] = []
    for offset, domain_event in enumerate(events):
        seq = last - len(events) + 1 + offset
        data = {**domain_event.payload(), "seq": seq, "timestamp": timestamp}
        rows.append(
            {
                "session_id": session_id,
                "seq": seq,
                "event": domain_event.name,
                "data": data,
                "created_at": now,
            }
        )
        stored.append(StoredEvent(session_id, seq, domain_event.name, data, timestamp))
    return stored, rows


_LOG = cast(Table, EventLogEntry.__table__)
_AFTER = (
    select(_LOG.c.seq, _LOG.c.event, _LOG.c.data, _LOG.c.created_at)
    .where(_LOG.c.session_id == bindparam("session_id"), _LOG.c.seq > bindparam("after_seq"))
    .order_by(_LOG.c.seq)
    .limit(bindparam("limit", type_=Integer))
)
_AFTER_UP_TO = _AFTER.where(_LOG.c.seq <= bindparam("up_to"))
_HEAD = select(_SESSIONS.c.last_seq).where(_SESSIONS.c.id == bindparam("session_id"))

Reader = AsyncSession | AsyncConnection


async def read_after(
    db: Reader, session_id: str, after_seq: int, limit: int, up_to: int | None = None
) -> list[StoredEvent]:
    """Stored events with seq > after_seq (and ≤ up_to), in order, at most `limit`."""
    parameters: dict[str, Any] = {"session_id": session_id, "after_seq": after_seq, "limit": limit}
    query = _AFTER
    if up_to is not None:
        query, parameters["up_to"] = _AFTER_UP_TO, up_to
    rows = await db.execute(query, parameters)
    return [
        StoredEvent(session_id, seq, event, data, iso_timestamp(created_at))
        for seq, event, data, created_at in rows
    ]


async def read_between(
    db: AsyncConnection, session_id: str, after_seq: int, up_to: int, limit: int
) -> list[StoredEvent]:
    """`read_after(db, session_id, after_seq, limit, up_to)` straight on the driver
    (storage/driver.py): the replays and gap reads of live sockets."""
    parameters = {"session_id": session_id, "after_seq": after_seq, "limit": limit, "up_to": up_to}
    rows = await driver.fetch(db, _AFTER_UP_TO, parameters)
    if driver.is_sqlite(db):  # JSON and timestamps as SQLite keeps them: text
        return [
            StoredEvent(session_id, seq, event, json_loads(data), _iso_of_sqlite(created_at))
            for seq, event, data, created_at in rows
        ]
    return [
        StoredEvent(session_id, seq, event, data, iso_timestamp(created_at))
        for seq, event, data, created_at in rows
    ]


def _iso_of_sqlite(text: str) -> str:
    """`iso_timestamp` of a timestamp as SQLAlchemy stores it in SQLite
    (`2026-11-30 18:47:30.123456`, UTC), without parsing it."""
    if len(text) == 26 and text[10] == " " and text[19] == ".":
        return f"{text[:10]}T{text[11:23]}Z"
    return iso_timestamp(datetime.fromisoformat(text))


async def head(db: Reader, session_id: str) -> int | None:
    """The session's last seq, or None for an unknown session."""
    value: int | None = (await db.execute(_HEAD, {"session_id": session_id})).scalar()
    return value
