"""Group membership: names, moderators, and the invite → accept → remove transitions."""

from __future__ import annotations

from itertools import product

import pytest

from studygroups.domain.errors import Conflict, Forbidden, Invalid, NotFound
from studygroups.domain.groups import (
    GROUP_NAME_MAX,
    MemberRole,
    MemberStatus,
    check_can_accept,
    check_can_invite,
    check_can_remove,
    check_invited_role,
    check_role_change,
    clean_group_changes,
    clean_group_name,
    is_moderator,
)

OWNER, MOD, MEMBER = MemberRole.OWNER, MemberRole.MOD, MemberRole.MEMBER
INVITED, ACTIVE, REMOVED = MemberStatus.INVITED, MemberStatus.ACTIVE, MemberStatus.REMOVED
ROLES: list[MemberRole | None] = [OWNER, MOD, MEMBER, None]
STATUSES: list[MemberStatus | None] = [INVITED, ACTIVE, REMOVED, None]
PAIRS = list(product(ROLES, STATUSES))


# --- names ---------------------------------------------------------------------------------------


def test_a_group_name_is_trimmed() -> None:
    assert clean_group_name("  Physics 101 \n") == "Physics 101"


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_an_empty_group_name_is_invalid(name: str) -> None:
    with pytest.raises(Invalid, match="name"):
        clean_group_name(name)


def test_a_group_name_of_the_maximum_length_is_accepted_and_one_longer_is_invalid() -> None:
    assert clean_group_name(" " + "n" * GROUP_NAME_MAX + " ") == "n" * 200

    with pytest.raises(Invalid, match=r"1\.\.200"):
        clean_group_name("n" * (GROUP_NAME_MAX + 1))


# --- moderators ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), PAIRS, ids=[f"{r}-{s}" for r, s in PAIRS])
def test_only_active_owners_and_mods_moderate(
    role: MemberRole | None, status: MemberStatus | None
) -> None:
    expected = status is ACTIVE and role in (OWNER, MOD)

    assert is_moderator(role, status) is expected


# --- invite --------------------------------------------------------------------------------------


@pytest.mark.parametrize("inviter_role", [OWNER, MOD])
@pytest.mark.parametrize("invitee_status", [None, INVITED, REMOVED])
def test_an_active_owner_or_mod_invites_a_newcomer_a_pending_invitee_or_a_removed_member(
    inviter_role: MemberRole, invitee_status: MemberStatus | None
) -> None:
    check_can_invite(inviter_role, ACTIVE, invitee_status)


@pytest.mark.parametrize(
    ("role", "status"),
    [pair for pair in PAIRS if not (pair[1] is ACTIVE and pair[0] in (OWNER, MOD))],
    ids=[f"{r}-{s}" for r, s in PAIRS if not (s is ACTIVE and r in (OWNER, MOD))],
)
def test_anyone_but_an_active_owner_or_mod_is_forbidden_to_invite(
    role: MemberRole | None, status: MemberStatus | None
) -> None:
    with pytest.raises(Forbidden, match="OWNER or MOD may invite"):
        check_can_invite(role, status, None)


@pytest.mark.parametrize("inviter_role", [OWNER, MOD])
def test_inviting_an_active_member_again_is_a_conflict(inviter_role: MemberRole) -> None:
    with pytest.raises(Conflict, match="already an active member"):
        check_can_invite(inviter_role, ACTIVE, ACTIVE)


def test_a_plain_member_inviting_an_active_member_is_forbidden_not_a_conflict() -> None:
    with pytest.raises(Forbidden):
        check_can_invite(MEMBER, ACTIVE, ACTIVE)


@pytest.mark.parametrize("invitee_status", [None, REMOVED])
def test_only_an_owner_invites_as_owner(invitee_status: MemberStatus | None) -> None:
    check_invited_role(OWNER, None, invitee_status, OWNER)
    with pytest.raises(Forbidden, match="only an OWNER may invite another OWNER"):
        check_invited_role(MOD, None, invitee_status, OWNER)


@pytest.mark.parametrize("pending", [OWNER, MOD, MEMBER])
@pytest.mark.parametrize("role", [MOD, MEMBER])
def test_a_mod_renews_a_pending_invitation_as_it_is_but_cannot_change_its_role(
    pending: MemberRole, role: MemberRole
) -> None:
    if pending is role:
        check_invited_role(MOD, pending, INVITED, role)
    else:
        with pytest.raises(Forbidden, match="change the role of a pending invitation"):
            check_invited_role(MOD, pending, INVITED, role)


@pytest.mark.parametrize("pending", [OWNER, MOD, MEMBER])
@pytest.mark.parametrize("role", [OWNER, MOD, MEMBER])
def test_an_owner_sets_any_role_on_a_pending_invitation(
    pending: MemberRole, role: MemberRole
) -> None:
    check_invited_role(OWNER, pending, INVITED, role)


def test_a_mod_reinvites_a_removed_member_with_a_role_below_owner_whatever_they_had() -> None:
    check_invited_role(MOD, OWNER, REMOVED, MEMBER)


# --- accept --------------------------------------------------------------------------------------


def test_an_invited_user_accepts() -> None:
    check_can_accept(INVITED)


@pytest.mark.parametrize("status", [None, REMOVED], ids=["never-invited", "removed"])
def test_accepting_without_a_pending_invitation_is_forbidden(
    status: MemberStatus | None,
) -> None:
    with pytest.raises(Forbidden, match="no invitation"):
        check_can_accept(status)


def test_accepting_when_already_active_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="already an active member"):
        check_can_accept(ACTIVE)


# --- remove --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", [OWNER, MOD])
@pytest.mark.parametrize("target_role", [MOD, MEMBER])
@pytest.mark.parametrize("target_status", [INVITED, ACTIVE])
def test_an_active_owner_or_mod_removes_mods_and_members(
    actor_role: MemberRole, target_role: MemberRole, target_status: MemberStatus
) -> None:
    check_can_remove("actor", actor_role, ACTIVE, "target", target_role, target_status, 2)


def test_an_owner_removes_another_owner() -> None:
    check_can_remove("o1", OWNER, ACTIVE, "o2", OWNER, ACTIVE, 2)


def test_a_mod_cannot_remove_an_owner() -> None:
    with pytest.raises(Forbidden, match="only an OWNER may remove an OWNER"):
        check_can_remove("m1", MOD, ACTIVE, "o1", OWNER, ACTIVE, 2)


def test_a_mod_cannot_remove_an_invited_owner_either() -> None:
    with pytest.raises(Forbidden, match="only an OWNER may remove an OWNER"):
        check_can_remove("m1", MOD, ACTIVE, "o1", OWNER, INVITED, 2)


@pytest.mark.parametrize("target_role", [OWNER, MOD, MEMBER])
def test_a_plain_member_cannot_remove_anyone_else(target_role: MemberRole) -> None:
    with pytest.raises(Forbidden, match="OWNER or MOD may remove"):
        check_can_remove("u1", MEMBER, ACTIVE, "u2", target_role, ACTIVE, 2)


@pytest.mark.parametrize("actor_status", [INVITED, REMOVED, None])
@pytest.mark.parametrize("actor_role", [OWNER, MOD])
def test_an_owner_or_mod_who_is_not_active_cannot_remove_anyone_else(
    actor_role: MemberRole, actor_status: MemberStatus | None
) -> None:
    with pytest.raises(Forbidden):
        check_can_remove("a", actor_role, actor_status, "b", MEMBER, ACTIVE, 2)


@pytest.mark.parametrize(
    ("role", "status"),
    list(product([OWNER, MOD, MEMBER], [INVITED, ACTIVE])),
)
def test_anyone_still_in_the_group_may_remove_themselves(
    role: MemberRole, status: MemberStatus
) -> None:
    check_can_remove("me", role, status, "me", role, status, 2)


@pytest.mark.parametrize("actor_role", [OWNER, MOD, MEMBER])
@pytest.mark.parametrize("target_status", [None, REMOVED], ids=["never-member", "removed"])
def test_removing_someone_who_is_not_a_member_is_a_conflict(
    actor_role: MemberRole, target_status: MemberStatus | None
) -> None:
    with pytest.raises(Conflict, match="not a member"):
        check_can_remove("actor", actor_role, ACTIVE, "target", None, target_status, 2)


def test_the_last_active_owner_cannot_leave_the_group() -> None:
    with pytest.raises(Conflict, match="last OWNER cannot leave"):
        check_can_remove("me", OWNER, ACTIVE, "me", OWNER, ACTIVE, 1)


def test_an_owner_may_leave_while_another_active_owner_remains() -> None:
    check_can_remove("me", OWNER, ACTIVE, "me", OWNER, ACTIVE, 2)


def test_an_invited_owner_may_decline_by_leaving_whatever_the_owner_count() -> None:
    check_can_remove("me", OWNER, INVITED, "me", OWNER, INVITED, 1)


def test_removing_yourself_twice_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="not a member"):
        check_can_remove("me", MEMBER, REMOVED, "me", MEMBER, REMOVED, 2)


# --- changing a group ----------------------------------------------------------------------------


def test_a_change_keeps_only_the_fields_sent_with_the_name_trimmed() -> None:
    assert clean_group_changes({"name": "  Chem  "}) == {"name": "Chem"}
    assert clean_group_changes({"scope_type": None, "scope_id": "c-1"}) == {
        "scope_type": None,
        "scope_id": "c-1",
    }


def test_a_change_with_no_fields_changes_nothing() -> None:
    assert clean_group_changes({}) == {}


def test_a_change_cannot_null_or_blank_the_name() -> None:
    with pytest.raises(Invalid, match="null"):
        clean_group_changes({"name": None})
    with pytest.raises(Invalid, match="name"):
        clean_group_changes({"name": "   "})


def test_a_change_refuses_scopes_longer_than_at_creation() -> None:
    assert clean_group_changes({"scope_type": "t" * 64}) == {"scope_type": "t" * 64}
    with pytest.raises(Invalid, match="scope_type"):
        clean_group_changes({"scope_type": "t" * 65})
    with pytest.raises(Invalid, match="scope_id"):
        clean_group_changes({"scope_id": "i" * 201})


# --- changing a member's role --------------------------------------------------------------------

ROLE_CHANGES = list(product([OWNER, MOD, MEMBER], [INVITED, ACTIVE], [OWNER, MOD, MEMBER]))


@pytest.mark.parametrize(
    ("role", "status", "new_role"),
    ROLE_CHANGES,
    ids=[f"{r}-{s}-to-{n}" for r, s, n in ROLE_CHANGES],
)
def test_an_invited_or_active_members_role_changes_while_another_active_owner_remains(
    role: MemberRole, status: MemberStatus, new_role: MemberRole
) -> None:
    check_role_change(role, status, new_role, active_owners=2)


@pytest.mark.parametrize("new_role", [MOD, MEMBER])
def test_the_last_active_owner_cannot_be_demoted(new_role: MemberRole) -> None:
    with pytest.raises(Conflict, match="last OWNER"):
        check_role_change(OWNER, ACTIVE, new_role, active_owners=1)


def test_the_last_active_owner_may_be_set_to_owner_again() -> None:
    check_role_change(OWNER, ACTIVE, OWNER, active_owners=1)


@pytest.mark.parametrize("new_role", [MOD, MEMBER])
def test_an_invited_owner_is_not_counted_so_demoting_them_needs_no_other_owner(
    new_role: MemberRole,
) -> None:
    check_role_change(OWNER, INVITED, new_role, active_owners=1)


@pytest.mark.parametrize("role", [OWNER, MOD, MEMBER])
def test_a_removed_members_role_cannot_change(role: MemberRole) -> None:
    with pytest.raises(Conflict, match="removed"):
        check_role_change(role, REMOVED, MEMBER, active_owners=2)


def test_the_role_of_someone_who_was_never_a_member_is_not_found() -> None:
    with pytest.raises(NotFound, match="not a member"):
        check_role_change(None, None, MOD, active_owners=1)
