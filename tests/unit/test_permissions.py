"""Who may facilitate a session, act in it, or merely read it."""

from __future__ import annotations

from itertools import product

import pytest

from studygroups.domain.errors import Forbidden
from studygroups.domain.groups import MemberRole, MemberStatus
from studygroups.domain.permissions import (
    can_change_roles,
    can_facilitate,
    check_active_member,
    check_can_change_roles,
    check_can_edit_group,
    check_can_facilitate,
    check_can_manage_playlist,
    check_session_member,
    is_active_member,
)
from studygroups.domain.sessions import SessionRole

GROUP_ROLES: list[MemberRole | None] = [*MemberRole, None]
STATUSES: list[MemberStatus | None] = [*MemberStatus, None]
SESSION_ROLES: list[SessionRole | None] = [*SessionRole, None]
NOT_ACTIVE: list[MemberStatus | None] = [MemberStatus.INVITED, MemberStatus.REMOVED, None]
CASES = list(product(GROUP_ROLES, STATUSES, SESSION_ROLES))


def _facilitates(
    group_role: MemberRole | None, status: MemberStatus | None, session_role: SessionRole | None
) -> bool:
    """The contract: the session's FACILITATOR or an OWNER/MOD, and only while ACTIVE."""
    return status is MemberStatus.ACTIVE and (
        session_role is SessionRole.FACILITATOR or group_role in (MemberRole.OWNER, MemberRole.MOD)
    )


@pytest.mark.parametrize(
    ("group_role", "status", "session_role"),
    CASES,
    ids=[f"{r}-{s}-{sr}" for r, s, sr in CASES],
)
def test_the_facilitator_is_the_sessions_facilitator_or_an_active_owner_or_mod(
    group_role: MemberRole | None, status: MemberStatus | None, session_role: SessionRole | None
) -> None:
    expected = _facilitates(group_role, status, session_role)

    assert can_facilitate(group_role, status, session_role) is expected
    if expected:
        check_can_facilitate(group_role, status, session_role)
    else:
        with pytest.raises(Forbidden):
            check_can_facilitate(group_role, status, session_role)


def test_an_active_member_dealt_facilitator_facilitates() -> None:
    assert can_facilitate(MemberRole.MEMBER, MemberStatus.ACTIVE, SessionRole.FACILITATOR)


def test_an_active_owner_facilitates_without_a_session_role() -> None:
    assert can_facilitate(MemberRole.OWNER, MemberStatus.ACTIVE, None)


def test_an_active_mod_dealt_participant_still_facilitates() -> None:
    assert can_facilitate(MemberRole.MOD, MemberStatus.ACTIVE, SessionRole.PARTICIPANT)


@pytest.mark.parametrize("role", [r for r in SessionRole if r is not SessionRole.FACILITATOR])
def test_an_active_plain_member_with_another_session_role_does_not_facilitate(
    role: SessionRole,
) -> None:
    assert not can_facilitate(MemberRole.MEMBER, MemberStatus.ACTIVE, role)
    with pytest.raises(Forbidden, match="FACILITATOR or a group OWNER/MOD"):
        check_can_facilitate(MemberRole.MEMBER, MemberStatus.ACTIVE, role)


@pytest.mark.parametrize("status", [MemberStatus.INVITED, MemberStatus.REMOVED])
def test_an_invited_or_removed_owner_dealt_facilitator_does_not_facilitate(
    status: MemberStatus,
) -> None:
    assert not can_facilitate(MemberRole.OWNER, status, SessionRole.FACILITATOR)
    with pytest.raises(Forbidden, match="not an active member"):
        check_can_facilitate(MemberRole.OWNER, status, SessionRole.FACILITATOR)


def test_an_active_status_makes_an_active_member() -> None:
    assert is_active_member(MemberStatus.ACTIVE)


@pytest.mark.parametrize("status", NOT_ACTIVE, ids=["INVITED", "REMOVED", "none"])
def test_invited_removed_or_unknown_users_are_not_active_members(
    status: MemberStatus | None,
) -> None:
    assert not is_active_member(status)


def test_an_active_member_passes_the_membership_check() -> None:
    check_active_member(MemberStatus.ACTIVE)


@pytest.mark.parametrize("status", NOT_ACTIVE, ids=["INVITED", "REMOVED", "none"])
def test_invited_removed_or_unknown_users_fail_the_membership_check(
    status: MemberStatus | None,
) -> None:
    with pytest.raises(Forbidden, match="not an active member"):
        check_active_member(status)


@pytest.mark.parametrize("session_role", list(SessionRole))
def test_an_active_member_dealt_into_the_session_may_act_in_it(session_role: SessionRole) -> None:
    check_session_member(MemberStatus.ACTIVE, session_role)


def test_an_active_member_not_dealt_into_the_session_may_not_act_in_it() -> None:
    with pytest.raises(Forbidden, match="not a member of this session"):
        check_session_member(MemberStatus.ACTIVE, None)


@pytest.mark.parametrize(
    ("status", "session_role"),
    list(product(NOT_ACTIVE, SESSION_ROLES)),
)
def test_invited_or_removed_users_may_not_act_in_a_session_whatever_their_role(
    status: MemberStatus | None, session_role: SessionRole | None
) -> None:
    with pytest.raises(Forbidden, match="not an active member"):
        check_session_member(status, session_role)


# --- group administration ------------------------------------------------------------------------

GROUP_CASES = list(product(GROUP_ROLES, STATUSES))
GROUP_IDS = [f"{r}-{s}" for r, s in GROUP_CASES]


@pytest.mark.parametrize(("role", "status"), GROUP_CASES, ids=GROUP_IDS)
def test_only_an_active_owner_or_mod_edits_the_group_and_its_playlist(
    role: MemberRole | None, status: MemberStatus | None
) -> None:
    allowed = status is MemberStatus.ACTIVE and role in (MemberRole.OWNER, MemberRole.MOD)
    for check in (check_can_edit_group, check_can_manage_playlist):
        if allowed:
            check(role, status)
        else:
            with pytest.raises(Forbidden, match="OWNER or MOD"):
                check(role, status)


@pytest.mark.parametrize(("role", "status"), GROUP_CASES, ids=GROUP_IDS)
def test_only_an_active_owner_changes_roles(
    role: MemberRole | None, status: MemberStatus | None
) -> None:
    allowed = status is MemberStatus.ACTIVE and role is MemberRole.OWNER

    assert can_change_roles(role, status) is allowed
    if allowed:
        check_can_change_roles(role, status)
    else:
        with pytest.raises(Forbidden, match="OWNER"):
            check_can_change_roles(role, status)
