"""Group use cases: create, list, invite, accept, remove."""

from __future__ import annotations

import uuid

from studygroups.domain import groups as rules
from studygroups.domain.errors import Forbidden, Invalid, NotFound
from studygroups.domain.groups import MemberRole, MemberStatus
from studygroups.domain.permissions import check_active_member
from studygroups.identity import Identity
from studygroups.services import views
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import groups as group_rows
from studygroups.storage import users
from studygroups.storage.tables import Group, GroupMember

SCOPE_MAX = 200


async def create_group(
    uow: UnitOfWork, actor: Identity, name: str, scope_type: str | None, scope_id: str | None
) -> views.Json:
    """A new group with the caller as its ACTIVE OWNER."""
    cleaned = rules.clean_group_name(name)
    for label, value in (("scope_type", scope_type), ("scope_id", scope_id)):
        if value is not None and len(value) > SCOPE_MAX:
            raise Invalid(f"{label} must be at most {SCOPE_MAX} characters")
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
    return {**views.group(row), "members": [views.member(m, u) for m, u in members]}


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
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    check_active_member(MemberStatus(me.status) if me else None)
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
    rules.check_can_invite(inviter_role, inviter_status, _role_status(invitee)[1])
    if role is MemberRole.OWNER and inviter_role is not MemberRole.OWNER:
        raise Forbidden("only an OWNER may invite another OWNER")
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
    """REMOVED at once; after commit the user's sockets leave the group's session rooms."""
    await _load_group(uow, group_id, lock=True)
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    target = await group_rows.membership(uow.db, group_id, user_id)
    rules.check_can_remove(actor.user_id, *_role_status(me), user_id, *_role_status(target))
    assert target is not None  # check_can_remove refuses a missing member
    target.status, target.updated_at = MemberStatus.REMOVED, uow.now()
    await uow.db.flush()
    uow.remove_user_after_commit(user_id, await group_rows.open_session_ids(uow.db, group_id))
    return await _member_json(uow, target)


async def _member_json(uow: UnitOfWork, member: GroupMember) -> views.Json:
    """The member as GET /groups/:id lists them (name and email from the user record)."""
    await uow.db.flush()
    user = await users.get(uow.db, member.user_id)
    return {**views.member(member, user), "group_id": member.group_id}


async def list_group_sessions(uow: UnitOfWork, actor: Identity, group_id: str) -> list[views.Json]:
    await _load_group(uow, group_id)
    me = await group_rows.membership(uow.db, group_id, actor.user_id)
    check_active_member(MemberStatus(me.status) if me else None)
    return [views.session_summary(row) for row in await group_rows.sessions(uow.db, group_id)]
