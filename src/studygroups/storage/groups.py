"""Queries over groups and their members; they decide nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studygroups.storage.tables import Group, GroupContent, GroupMember, GroupSession, User


async def get(db: AsyncSession, group_id: str) -> Group | None:
    return await db.get(Group, group_id)


async def membership(db: AsyncSession, group_id: str, user_id: str) -> GroupMember | None:
    return await db.get(GroupMember, (group_id, user_id))


async def members_with_users(db: AsyncSession, group_id: str) -> list[tuple[GroupMember, User]]:
    rows = await db.execute(
        select(GroupMember, User)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == group_id)
        .order_by(GroupMember.created_at, GroupMember.user_id)
    )
    return [(member, user) for member, user in rows]


async def active_member_ids(db: AsyncSession, group_id: str) -> list[str]:
    rows = await db.scalars(
        select(GroupMember.user_id).where(
            GroupMember.group_id == group_id, GroupMember.status == "ACTIVE"
        )
    )
    return list(rows)


async def active_owner_count(db: AsyncSession, group_id: str) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(GroupMember)
        .where(
            GroupMember.group_id == group_id,
            GroupMember.role == "OWNER",
            GroupMember.status == "ACTIVE",
        )
    )
    return int(count or 0)


async def of_user(db: AsyncSession, user_id: str) -> list[tuple[Group, GroupMember]]:
    """Groups where the user is ACTIVE or INVITED, newest first."""
    rows = await db.execute(
        select(Group, GroupMember)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user_id, GroupMember.status.in_(("ACTIVE", "INVITED")))
        .order_by(Group.created_at.desc(), Group.id)
    )
    return [(group, member) for group, member in rows]


async def finished_sessions(db: AsyncSession, group_id: str) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(GroupSession)
        .where(GroupSession.group_id == group_id, GroupSession.status == "FINISHED")
    )
    return int(count or 0)


async def lock(db: AsyncSession, group_id: str) -> Group | None:
    """The group row, locked on PostgreSQL so membership changes and session creation serialise."""
    return await db.scalar(select(Group).where(Group.id == group_id).with_for_update())


async def sessions(db: AsyncSession, group_id: str) -> list[GroupSession]:
    rows = await db.scalars(
        select(GroupSession)
        .where(GroupSession.group_id == group_id)
        .order_by(GroupSession.created_at.desc(), GroupSession.id)
    )
    return list(rows)


async def open_session_ids(db: AsyncSession, group_id: str) -> list[str]:
    rows = await db.scalars(
        select(GroupSession.id).where(
            GroupSession.group_id == group_id, GroupSession.status != "FINISHED"
        )
    )
    return list(rows)


async def contents(db: AsyncSession, group_id: str) -> list[GroupContent]:
    """The group's playlist in order."""
    rows = await db.scalars(
        select(GroupContent)
        .where(GroupContent.group_id == group_id)
        .order_by(GroupContent.position)
    )
    return list(rows)


async def content(db: AsyncSession, group_id: str, content_id: str) -> GroupContent | None:
    return await db.get(GroupContent, (group_id, content_id))


async def playlist_size(db: AsyncSession, group_id: str) -> tuple[int, int | None]:
    """How many contents the playlist holds, and the last position (None when empty)."""
    row = (
        await db.execute(
            select(func.count(), func.max(GroupContent.position)).where(
                GroupContent.group_id == group_id
            )
        )
    ).one()
    return int(row[0]), row[1]
