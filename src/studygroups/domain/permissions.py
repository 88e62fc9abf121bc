"""Who may do what: predicates and checks over roles, free of storage."""

from __future__ import annotations

from studygroups.domain.errors import Forbidden
from studygroups.domain.groups import MemberRole, MemberStatus, is_moderator
from studygroups.domain.sessions import SessionRole


def is_active_member(status: MemberStatus | None) -> bool:
    return status is MemberStatus.ACTIVE


def can_facilitate(
    group_role: MemberRole | None,
    group_status: MemberStatus | None,
    session_role: SessionRole | None,
) -> bool:
    """The session's FACILITATOR, or an active OWNER/MOD of the group, runs the session."""
    if not is_active_member(group_status):
        return False
    return session_role is SessionRole.FACILITATOR or is_moderator(group_role, group_status)


def check_active_member(status: MemberStatus | None) -> None:
    if not is_active_member(status):
        raise Forbidden("you are not an active member of this group")


# --- group administration (API.md §3 "Groups") ------------------------------------------------


def can_change_roles(role: MemberRole | None, status: MemberStatus | None) -> bool:
    """Only an ACTIVE OWNER changes members' roles (MODs moderate, but do not promote)."""
    return status is MemberStatus.ACTIVE and role is MemberRole.OWNER


def check_can_edit_group(role: MemberRole | None, status: MemberStatus | None) -> None:
    """Renaming a group or changing its scope is for its ACTIVE OWNER or MOD."""
    if not is_moderator(role, status):
        raise Forbidden("only the group's OWNER or MOD may change the group")


def check_can_manage_playlist(role: MemberRole | None, status: MemberStatus | None) -> None:
    """Adding and removing playlist contents is for the group's ACTIVE OWNER or MOD."""
    if not is_moderator(role, status):
        raise Forbidden("only the group's OWNER or MOD may change the playlist")


def check_can_change_roles(role: MemberRole | None, status: MemberStatus | None) -> None:
    if not can_change_roles(role, status):
        raise Forbidden("only the group's OWNER may change members' roles")


def check_can_facilitate(
    group_role: MemberRole | None,
    group_status: MemberStatus | None,
    session_role: SessionRole | None,
) -> None:
    check_active_member(group_status)
    if not can_facilitate(group_role, group_status, session_role):
        raise Forbidden("only the session's FACILITATOR or a group OWNER/MOD may do this")


def check_session_member(
    group_status: MemberStatus | None, session_role: SessionRole | None
) -> None:
    """Activity comes from active group members who were dealt into the session."""
    check_active_member(group_status)
    if session_role is None:
        raise Forbidden("you are not a member of this session")
