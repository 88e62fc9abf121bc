"""Queries over sessions, their members, rounds, activity and shared cards; they decide nothing."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnClause,
    ScalarSelect,
    Table,
    and_,
    bindparam,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from studygroups.storage import driver
from studygroups.storage.tables import (
    Activity,
    GroupMember,
    GroupSession,
    Round,
    SessionMember,
    SharedCard,
)

_USER: BindParameter[str] = bindparam("user_id")
_SESSION: BindParameter[str] = bindparam("session_id")


# Built once: the hottest read of every session command (chat, votes, joins).
_WITH_ROLES = (
    select(GroupSession, GroupMember.role, GroupMember.status, SessionMember.role)
    .outerjoin(
        GroupMember,
        and_(GroupMember.group_id == GroupSession.group_id, GroupMember.user_id == _USER),
    )
    .outerjoin(
        SessionMember,
        and_(SessionMember.session_id == GroupSession.id, SessionMember.user_id == _USER),
    )
    .where(GroupSession.id == _SESSION)
)
_WITH_ROLES_LOCKED = _WITH_ROLES.with_for_update(of=GroupSession)
_SESSIONS = cast(Table, GroupSession.__table__)
# SQLAlchemy writes RETURNING columns without their table on SQLite, where `group_id` inside a
# subquery on group_members would then mean group_members.group_id: name the outer row in full.
_OUTER_GROUP: ColumnClause[str] = literal_column("group_sessions.group_id")
_OUTER_ID: ColumnClause[str] = literal_column("group_sessions.id")


def _scalar(column: Any, *where: Any) -> ScalarSelect[Any]:
    return select(column).where(*where).scalar_subquery()


# A chat post in one statement: take the session's next seq and read what the post is checked
# against. The caller refuses (and so rolls back) or records its event with that seq.
_TAKE_SEQ_WITH_ROLES = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == _SESSION)
    .values(last_seq=_SESSIONS.c.last_seq + 1)
    .returning(
        _SESSIONS.c.last_seq,
        _SESSIONS.c.group_id,
        _SESSIONS.c.status,
        _SESSIONS.c.rounds_count,
        _scalar(
            GroupMember.status, GroupMember.group_id == _OUTER_GROUP, GroupMember.user_id == _USER
        ),
        _scalar(
            SessionMember.role,
            SessionMember.session_id == _OUTER_ID,
            SessionMember.user_id == _USER,
        ),
    )
)


# A join's check in one row: the session's head and the caller's membership of its group.
_HEAD_AND_MEMBERSHIP = (
    select(_SESSIONS.c.last_seq, GroupMember.status)
    .select_from(_SESSIONS)
    .outerjoin(
        GroupMember,
        and_(GroupMember.group_id == _SESSIONS.c.group_id, GroupMember.user_id == _USER),
    )
    .where(_SESSIONS.c.id == _SESSION)
)


async def head_and_membership(
    db: AsyncConnection, session_id: str, user_id: str
) -> tuple[int, str | None] | None:
    """(the session's last seq, `user_id`'s membership status in its group, None when not a
    member), or None for an unknown session."""
    parameters = {"user_id": user_id, "session_id": session_id}
    rows = await driver.fetch(db, _HEAD_AND_MEMBERSHIP, parameters)  # the join's: no SQLAlchemy
    if not rows:
        return None
    last_seq, status = rows[0]
    return int(last_seq), status


# Many joins' checks in one statement on PostgreSQL: the (session, user) pairs as two arrays.
# The pairs come as text[], not varchar[] (the columns' type; the index serves either): asyncpg
# knows text[] but looks varchar[] up in the catalog on every new connection, three round trips
# and ~2.5 ms of CPU each time (a restarted process opens its whole pool during a storm).
_HEADS_AND_MEMBERSHIPS = (
    "SELECT asked.session_id, asked.user_id, s.last_seq, m.status"
    " FROM unnest($1::text[], $2::text[]) AS asked(session_id, user_id)"
    " JOIN group_sessions AS s ON s.id = asked.session_id"
    " LEFT OUTER JOIN group_members AS m"
    " ON m.group_id = s.group_id AND m.user_id = asked.user_id"
)


async def heads_and_memberships(
    db: AsyncConnection, asks: Collection[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str | None]]:
    """`head_and_membership` of every (session, user) pair in `asks`, by pair; the pairs of an
    unknown session are missing. One statement on PostgreSQL; one per pair on SQLite, whose
    statements run in process (storage/driver.py)."""
    found: dict[tuple[str, str], tuple[int, str | None]] = {}
    if driver.is_sqlite(db):
        for session_id, user_id in asks:
            row = await head_and_membership(db, session_id, user_id)
            if row is not None:
                found[session_id, user_id] = row
        return found
    sessions = [session_id for session_id, _ in asks]
    users = [user_id for _, user_id in asks]
    for session_id, user_id, last_seq, status in await driver.fetch_text(
        db, _HEADS_AND_MEMBERSHIPS, [sessions, users]
    ):
        found[session_id, user_id] = int(last_seq), status
    return found


async def with_roles(
    db: AsyncSession, session_id: str, user_id: str, *, for_update: bool = False
) -> tuple[GroupSession, str | None, str | None, str | None] | None:
    """The session and what `user_id` is to it, in one query: (session, group role, group
    status, session role); locked (the session row only) when writing."""
    query = _WITH_ROLES_LOCKED if for_update else _WITH_ROLES
    row = (await db.execute(query, {"user_id": user_id, "session_id": session_id})).first()
    if row is None:
        return None
    session, group_role, group_status, session_role = row
    return session, group_role, group_status, session_role


async def take_seq_with_roles(
    db: AsyncSession, session_id: str, user_id: str
) -> tuple[int, str, str, int, str | None, str | None] | None:
    """Take the session's next seq (locking its row) and read, in the same statement, (that seq,
    group id, status, rounds count, group membership status, session role); None if unknown."""
    connection = await db.connection()
    parameters = {"user_id": user_id, "session_id": session_id}
    row = (await connection.execute(_TAKE_SEQ_WITH_ROLES, parameters)).first()
    if row is None:
        return None
    seq, group_id, status, rounds_count, group_status, session_role = row
    return seq, group_id, status, rounds_count, group_status, session_role


async def member(db: AsyncSession, session_id: str, user_id: str) -> SessionMember | None:
    return await db.get(SessionMember, (session_id, user_id))


async def members(db: AsyncSession, session_id: str) -> list[SessionMember]:
    rows = await db.scalars(
        select(SessionMember)
        .where(SessionMember.session_id == session_id)
        .order_by(SessionMember.user_id)
    )
    return list(rows)


async def rounds(db: AsyncSession, session_id: str) -> list[Round]:
    rows = await db.scalars(
        select(Round).where(Round.session_id == session_id).order_by(Round.round_index)
    )
    return list(rows)


async def round_at(db: AsyncSession, session_id: str, round_index: int) -> Round | None:
    return await db.scalar(
        select(Round).where(Round.session_id == session_id, Round.round_index == round_index)
    )


async def activity(
    db: AsyncSession, session_id: str, round_id: str | None = None, event_type: str | None = None
) -> list[Activity]:
    query = select(Activity).where(Activity.session_id == session_id)
    if round_id is not None:
        query = query.where(Activity.round_id == round_id)
    if event_type is not None:
        query = query.where(Activity.event_type == event_type)
    rows = await db.scalars(query.order_by(Activity.created_at, Activity.id))
    return list(rows)


async def activity_of(
    db: AsyncSession, round_id: str, user_id: str, event_type: str
) -> Activity | None:
    return await db.scalar(
        select(Activity).where(
            Activity.round_id == round_id,
            Activity.user_id == user_id,
            Activity.event_type == event_type,
        )
    )


async def shared_cards(db: AsyncSession, session_id: str) -> list[SharedCard]:
    rows = await db.scalars(
        select(SharedCard)
        .where(SharedCard.session_id == session_id)
        .order_by(SharedCard.created_at)
    )
    return list(rows)


async def shared_card(db: AsyncSession, round_id: str) -> SharedCard | None:
    return await db.scalar(select(SharedCard).where(SharedCard.round_id == round_id))
