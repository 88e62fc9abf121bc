"""Group membership: roles, statuses, the invite → accept → remove transitions, role changes."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from studygroups.domain.errors import Conflict, Forbidden, Invalid, NotFound


class MemberRole(StrEnum):
    OWNER = "OWNER"
    MOD = "MOD"
    MEMBER = "MEMBER"


class MemberStatus(StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    REMOVED = "REMOVED"


GROUP_NAME_MAX = 200
SCOPE_MAX = {"scope_type": 64, "scope_id": 200}


def clean_group_name(name: str) -> str:
    """A group name is trimmed and must be 1..200 characters."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > GROUP_NAME_MAX:
        raise Invalid(f"name must be 1..{GROUP_NAME_MAX} characters")
    return cleaned


def clean_scope(label: str, value: str | None) -> str | None:
    """`scope_type` (at most 64 characters) or `scope_id` (at most 200); None clears it."""
    limit = SCOPE_MAX[label]
    if value is not None and len(value) > limit:
        raise Invalid(f"{label} must be at most {limit} characters")
    return value


def clean_group_changes(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """The fields a PATCH sent, cleaned: a name (never null) and scopes (null clears them).
    Nothing sent is nothing to change."""
    cleaned: dict[str, str | None] = {}
    for label, value in changes.items():
        if label == "name":
            if value is None:
                raise Invalid("name cannot be null; leave it out to keep the name")
            cleaned[label] = clean_group_name(value)
        elif label in SCOPE_MAX:
            cleaned[label] = clean_scope(label, value)
    return cleaned


def is_moderator(role: MemberRole | None, status: MemberStatus | None) -> bool:
    """OWNER and MOD members who are ACTIVE moderate the group."""
    return status is MemberStatus.ACTIVE and role in (MemberRole.OWNER, MemberRole.MOD)


def check_can_invite(
    inviter_role: MemberRole | None,
    inviter_status: MemberStatus | None,
    invitee_status: MemberStatus | None,
) -> None:
    """Only moderators invite; an ACTIVE member cannot be invited again."""
    if not is_moderator(inviter_role, inviter_status):
        raise Forbidden("only the group's OWNER or MOD may invite members")
    if invitee_status is MemberStatus.ACTIVE:
        raise Conflict("the user is already an active member")


def check_invited_role(
    inviter_role: MemberRole | None,
    invitee_role: MemberRole | None,
    invitee_status: MemberStatus | None,
    role: MemberRole,
) -> None:
    """The role an invitation gives (the inviter may invite, `check_can_invite`): OWNER only
    from an OWNER; and a pending invitation's role changes only by an OWNER, as every role
    does (a MOD may renew it as it is, not lower an OWNER's choice before it is accepted)."""
    if inviter_role is MemberRole.OWNER:
        return
    if role is MemberRole.OWNER:
        raise Forbidden("only an OWNER may invite another OWNER")
    if invitee_status is MemberStatus.INVITED and invitee_role is not role:
        raise Forbidden("only an OWNER may change the role of a pending invitation")


def check_can_accept(status: MemberStatus | None) -> None:
    """Only a pending invitation can be accepted."""
    if status is None or status is MemberStatus.REMOVED:
        raise Forbidden("there is no invitation for you in this group")
    if status is MemberStatus.ACTIVE:
        raise Conflict("you are already an active member")


def check_can_remove(
    actor_id: str,
    actor_role: MemberRole | None,
    actor_status: MemberStatus | None,
    target_id: str,
    target_role: MemberRole | None,
    target_status: MemberStatus | None,
    active_owners: int,
) -> None:
    """Moderators remove others (a MOD cannot remove an OWNER); anyone may leave, except the
    group's last ACTIVE OWNER, who would leave it with nobody to administer it.

    `active_owners` counts the group's ACTIVE OWNERs before the removal.
    """
    if target_status is None or target_status is MemberStatus.REMOVED:
        raise Conflict("the user is not a member of this group")
    last_owner = (
        target_role is MemberRole.OWNER
        and target_status is MemberStatus.ACTIVE
        and active_owners <= 1
    )
    if actor_id == target_id:
        if last_owner:
            raise Conflict(
                "the group's last OWNER cannot leave it; make another member OWNER first"
            )
        return
    if not is_moderator(actor_role, actor_status):
        raise Forbidden("only the group's OWNER or MOD may remove other members")
    if target_role is MemberRole.OWNER and actor_role is not MemberRole.OWNER:
        raise Forbidden("only an OWNER may remove an OWNER")


def check_role_change(
    target_role: MemberRole | None,
    target_status: MemberStatus | None,
    new_role: MemberRole,
    active_owners: int,
) -> None:
    """An INVITED or ACTIVE member's role may change, as long as the group keeps an ACTIVE OWNER.

    `active_owners` counts the group's ACTIVE OWNERs before the change (the actor included).
    Who may change roles is permissions.check_can_change_roles.
    """
    if target_status is None:
        raise NotFound("the user is not a member of this group")
    if target_status is MemberStatus.REMOVED:
        raise Conflict("the user was removed from this group; invite them again instead")
    demoting_an_owner = target_role is MemberRole.OWNER and new_role is not MemberRole.OWNER
    if target_status is MemberStatus.ACTIVE and demoting_an_owner and active_owners <= 1:
        raise Conflict("the group's last OWNER cannot be demoted; make another member OWNER first")
