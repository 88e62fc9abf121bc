"""Group use cases: create, list, change, invite, accept, change a role, remove; the playlist.

Every change locks the group's row first (SELECT … FOR UPDATE on PostgreSQL; SQLite has one
writer), so rules that count members or positions see every earlier change of the group. None
of them records a durable event: groups have no event log (docs/api.md, "Groups").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from studygroups.domain import groups as rules
from studygroups.domain import playlist
from studygroups.domain.errors import Conflict, Invalid, NotFound
from studygroups.domain.groups import MemberRole, MemberStatus
from studygroups.domain.permissions import (
    check_can_change_roles,
    check_can_edit_group,
    check_can_manage_playlist,
)
from studygroups.identity import Identity
from studygroups.services import answers, views
from studygroups.services.access import check_group_member
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import groups as group_rows
from studygroups.storage import users
from studygroups.storage.tables import Group, GroupContent, GroupMember


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class PlaylistLimit:
    """At most `max_contents` contents per playlist (MAX_GROUP_CONTENTS); `on_full` is told
    each time a content is refused for it."""

    max_contents: int = 500
    on_full: Callable[[], None] = _nothing


async def create_group(
    uow: UnitOfWork, actor: Identity, name: str, scope_type: str | None, scope_id: str | None
) -> views.Json:
    """A new group with the caller as its ACTIVE OWNER."""
    cleaned = rules.clean_group_name(name)
    rules.clean_scope("scope_type", scope_type)
    rules.clean_scope("scope_id", scope_id)
    now = uow.now()
    row = Group(
        id=str(uuid.uuid4()),
        name=cleaned,
        scope_type=scope_type,
        scope_id=scope_id,
        created_by=actor.user_id,
        created_at=now,
    )
    uow.db.add(row)
    await uow.db.flush()
    uow.db.add(
        GroupMember(
            group_id=row.id,
            user_id=actor.user_id,
            role=MemberRole.OWNER,
            status=MemberStatus.ACTIVE,
            invited_by=None,
            created_at=now,
            updated_at=now,
        )
    )
    return await group_detail(uow, row)


async def group_detail(uow: UnitOfWork, row: Group) -> views.Json:
    await uow.db.flush()
    members = await group_rows.members_with_users(uow.db, row.id)
    contents = await group_rows.contents(uow.db, row.id)
    return {
        **views.group(row),
        "members": [views.member(m, u) for m, u in members],
        "contents": [views.group_content(c) for c in contents],
    }


async def list_groups(uow: UnitOfWork, actor: Identity) -> list[views.Json]:
    rows = await group_rows.of_user(uow.db, actor.user_id)
    return [
        {**views.group(group), "my_role": member.role, "my_status": member.status}
        for group, member in rows
    ]


async def _load_group(uow: UnitOfWork, group_id: str, *, lock: bool = False) -> Group:
    group = await (group_rows.lock(uow.db, group_id) if lock else group_rows.get(uow.db, group_id))
    if group is None:
        raise NotFound("group not found")
    return group


async def get_group(uow: UnitOfWork, actor: Identity, group_id: str) -> views.Json:
    """Members only (ACTIVE), with every member and their roles."""
    group = await _load_group(uow, group_id)
    await check_group_member(uow, group_id, actor.user_id)
    return await group_detail(uow, group)


async def update_group(
    uow: UnitOfWork, actor: Identity, group_id: str, changes: Mapping[str, str | None]
) -> views.Json:
    """PATCH: the fields sent change (a null scope clears it), the others stay; none sent is a
    no-op. ACTIVE OWNER/MOD only."""
    cleaned = rules.clean_group_changes(changes)
    group = await _load_group(uow, group_id, lock=True)
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    check_can_edit_group(*_role_status(me))
    group.name = cleaned.get("name") or group.name
    if "scope_type" in cleaned:
        group.scope_type = cleaned["scope_type"]
    if "scope_id" in cleaned:
        group.scope_id = cleaned["scope_id"]
    return await group_detail(uow, group)


def _role_status(member: GroupMember | None) -> tuple[MemberRole | None, MemberStatus | None]:
    if member is None:
        return None, None
    return MemberRole(member.role), MemberStatus(member.status)


async def invite_member(
    uow: UnitOfWork, actor: Identity, group_id: str, user_id: str, role: MemberRole
) -> views.Json:
    """Invite (or re-invite a removed) user; they need not have called the API yet."""
    if not user_id.strip() or len(user_id) > 255:
        raise Invalid("user_id must be 1..255 characters")
    await _load_group(uow, group_id, lock=True)
    inviter = await group_rows.membership(uow.db, group_id, actor.user_id)
    invitee = await group_rows.membership(uow.db, group_id, user_id)
    inviter_role, inviter_status = _role_status(inviter)
    invitee_role, invitee_status = _role_status(invitee)
    rules.check_can_invite(inviter_role, inviter_status, invitee_status)
    rules.check_invited_role(inviter_role, invitee_role, invitee_status, role)
    now = uow.now()
    await users.ensure_exists(uow.db, user_id, now)
    if invitee is None:
        invitee = GroupMember(
            group_id=group_id,
            user_id=user_id,
            role=role,
            status=MemberStatus.INVITED,
            invited_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        uow.db.add(invitee)
    else:
        invitee.role, invitee.status = role, MemberStatus.INVITED
        invitee.invited_by, invitee.updated_at = actor.user_id, now
    return await _member_json(uow, invitee)


async def accept_invite(uow: UnitOfWork, actor: Identity, group_id: str) -> views.Json:
    await _load_group(uow, group_id, lock=True)
    member = await group_rows.membership(uow.db, group_id, actor.user_id)
    rules.check_can_accept(_role_status(member)[1])
    assert member is not None  # check_can_accept refuses a missing invitation
    member.status, member.updated_at = MemberStatus.ACTIVE, uow.now()
    return await _member_json(uow, member)


async def remove_member(
    uow: UnitOfWork, actor: Identity, group_id: str, user_id: str
) -> views.Json:
    """REMOVED at once; after commit the user's sockets leave the group's session rooms.

    The group's row lock makes two OWNERs leaving at once take turns, so the last one stays."""
    await _load_group(uow, group_id, lock=True)
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    target = await group_rows.membership(uow.db, group_id, user_id)
    owners = await group_rows.active_owner_count(uow.db, group_id)
    rules.check_can_remove(actor.user_id, *_role_status(me), user_id, *_role_status(target), owners)
    assert target is not None  # check_can_remove refuses a missing member
    target.status, target.updated_at = MemberStatus.REMOVED, uow.now()
    await uow.db.flush()
    uow.remove_user_after_commit(user_id, await group_rows.open_session_ids(uow.db, group_id))
    return await _member_json(uow, target)


async def change_role(
    uow: UnitOfWork, actor: Identity, group_id: str, user_id: str, role: MemberRole
) -> views.Json:
    """An ACTIVE OWNER sets an INVITED or ACTIVE member's role; the last ACTIVE OWNER stays one.

    The group's row lock makes two OWNERs demoting each other (or themselves) at once take
    turns: the second sees the first's change, so the group never loses its last OWNER.
    """
    await _load_group(uow, group_id, lock=True)
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    check_can_change_roles(*_role_status(me))
    target = await group_rows.membership(uow.db, group_id, user_id)
    owners = await group_rows.active_owner_count(uow.db, group_id)
    rules.check_role_change(*_role_status(target), role, owners)
    assert target is not None  # check_role_change refuses a missing member
    if target.role != role:
        target.role, target.updated_at = role, uow.now()
    return await _member_json(uow, target)


async def add_content(
    uow: UnitOfWork, actor: Identity, group_id: str, content_id: str, limit: PlaylistLimit
) -> views.Json:
    """Put a content at the end of the playlist. ACTIVE OWNER/MOD only; listed once."""
    content_id = playlist.clean_content_id(content_id)
    await _load_group(uow, group_id, lock=True)  # positions are taken one writer at a time
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    check_can_manage_playlist(*_role_status(me))
    playlist.check_not_listed(await group_rows.content(uow.db, group_id, content_id) is not None)
    listed, last_position = await group_rows.playlist_size(uow.db, group_id)
    try:
        playlist.check_room(listed, limit.max_contents)
    except Conflict:
        limit.on_full()
        raise
    row = GroupContent(
        group_id=group_id,
        content_id=content_id,
        position=playlist.next_position(last_position),
        added_by=actor.user_id,
        added_at=uow.now(),
    )
    uow.db.add(row)
    await uow.db.flush()
    return views.group_content(row)


async def remove_content(uow: UnitOfWork, actor: Identity, group_id: str, content_id: str) -> None:
    """Take a content off the playlist; the others keep their positions. ACTIVE OWNER/MOD only."""
    await _load_group(uow, group_id, lock=True)
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    check_can_manage_playlist(*_role_status(me))
    row = await group_rows.content(uow.db, group_id, content_id)
    playlist.check_listed(row is not None)
    assert row is not None  # check_listed refuses a content that is not listed
    await uow.db.delete(row)
    await uow.db.flush()


async def _member_json(uow: UnitOfWork, member: GroupMember) -> views.Json:
    """The member as GET /groups/:id lists them (name and email from the user record)."""
    await uow.db.flush()
    user = await users.get(uow.db, member.user_id)
    return {**views.member(member, user), "group_id": member.group_id}


async def list_group_sessions(
    uow: UnitOfWork, actor: Identity, group_id: str
) -> list[answers.SessionSummary]:
    await _load_group(uow, group_id)
    await check_group_member(uow, group_id, actor.user_id)
    return [views.session_summary(row) for row in await group_rows.sessions(uow.db, group_id)]
