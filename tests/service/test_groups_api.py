"""Groups and membership over REST, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import auth
from tests.support import make_group


def _member(group: dict[str, Any], user_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in group["members"] if m["user_id"] == user_id)
    return found


async def _invite(
    http: httpx.AsyncClient, group_id: str, by: str, user_id: str, role: str = "MEMBER"
) -> httpx.Response:
    return await http.post(
        f"/groups/{group_id}/members/invite",
        json={"user_id": user_id, "role": role},
        headers=auth(by),
    )


async def _accept(http: httpx.AsyncClient, group_id: str, user_id: str) -> httpx.Response:
    return await http.post(f"/groups/{group_id}/members/accept", headers=auth(user_id))


async def _remove(http: httpx.AsyncClient, group_id: str, by: str, user_id: str) -> httpx.Response:
    return await http.delete(f"/groups/{group_id}/members/{user_id}", headers=auth(by))


async def _group(http: httpx.AsyncClient, group_id: str, viewer: str) -> dict[str, Any]:
    response = await http.get(f"/groups/{group_id}", headers=auth(viewer))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_creating_a_group_makes_the_caller_its_active_owner(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/groups",
        json={"name": "  Biology 101 ", "scope_type": "course", "scope_id": "bio-101"},
        headers=auth("ana"),
    )

    assert response.status_code == 201, response.text
    group = response.json()
    assert group["name"] == "Biology 101"
    assert (group["scope_type"], group["scope_id"]) == ("course", "bio-101")
    assert group["created_by"] == "ana"
    [owner] = group["members"]
    assert (owner["user_id"], owner["role"], owner["status"]) == ("ana", "OWNER", "ACTIVE")
    assert owner["user_name"] == "Ana"
    assert await _group(http, group["id"], "ana") == group


async def test_a_group_needs_a_name_of_one_to_two_hundred_characters(
    http: httpx.AsyncClient,
) -> None:
    for name in ["", "   ", "x" * 201]:
        response = await http.post("/groups", json={"name": name}, headers=auth("ana"))
        assert response.status_code == 400, name
    listed = await http.get("/groups", headers=auth("ana"))
    assert listed.json() == []


async def test_listing_groups_shows_the_callers_active_and_invited_groups_only(
    http: httpx.AsyncClient,
) -> None:
    mine = await make_group(http, ["ana", "bo"])
    invited = await make_group(http, ["cy"])
    await _invite(http, invited.group_id, "cy", "ana")
    left = await make_group(http, ["dee", "ana"])
    await _remove(http, left.group_id, "ana", "ana")
    await make_group(http, ["eve"])

    response = await http.get("/groups", headers=auth("ana"))

    assert response.status_code == 200
    listed = {g["id"]: (g["my_role"], g["my_status"]) for g in response.json()}
    assert listed == {
        mine.group_id: ("OWNER", "ACTIVE"),
        invited.group_id: ("MEMBER", "INVITED"),
    }


async def test_a_group_shows_its_members_with_their_roles_to_its_members(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await _invite(http, scenario.group_id, "ana", "cy", "MOD")
    await _accept(http, scenario.group_id, "cy")

    group = await _group(http, scenario.group_id, "bo")

    roles = {m["user_id"]: (m["role"], m["status"]) for m in group["members"]}
    assert roles == {
        "ana": ("OWNER", "ACTIVE"),
        "bo": ("MEMBER", "ACTIVE"),
        "cy": ("MOD", "ACTIVE"),
    }


async def test_outsiders_and_invitees_may_not_read_a_group(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana"])
    await _invite(http, scenario.group_id, "ana", "bo")

    for user in ["bo", "zed"]:
        response = await http.get(f"/groups/{scenario.group_id}", headers=auth(user))
        assert response.status_code == 403, user
        sessions = await http.get(f"/groups/{scenario.group_id}/sessions", headers=auth(user))
        assert sessions.status_code == 403, user


async def test_an_unknown_group_is_not_found(http: httpx.AsyncClient) -> None:
    for path in ["/groups/no-such-group", "/groups/no-such-group/sessions"]:
        response = await http.get(path, headers=auth("ana"))
        assert response.status_code == 404, path
    invite = await _invite(http, "no-such-group", "ana", "bo")
    assert invite.status_code == 404
    accept = await _accept(http, "no-such-group", "ana")
    assert accept.status_code == 404
    remove = await _remove(http, "no-such-group", "ana", "ana")
    assert remove.status_code == 404


async def test_a_user_who_never_called_the_api_can_be_invited_and_later_accept(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana"])

    invite = await _invite(http, scenario.group_id, "ana", "newcomer")

    assert invite.status_code == 201, invite.text
    assert (invite.json()["status"], invite.json()["role"]) == ("INVITED", "MEMBER")
    assert invite.json()["invited_by"] == "ana"
    pending = _member(await _group(http, scenario.group_id, "ana"), "newcomer")
    assert pending["status"] == "INVITED"

    accept = await _accept(http, scenario.group_id, "newcomer")

    assert accept.status_code == 200, accept.text
    member = _member(await _group(http, scenario.group_id, "ana"), "newcomer")
    assert (member["status"], member["user_name"]) == ("ACTIVE", "Newcomer")


async def test_owners_and_mods_invite_but_members_do_not(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await _invite(http, scenario.group_id, "ana", "mo", "MOD")
    await _accept(http, scenario.group_id, "mo")

    by_member = await _invite(http, scenario.group_id, "bo", "cy")
    by_outsider = await _invite(http, scenario.group_id, "zed", "cy")
    owner_by_mod = await _invite(http, scenario.group_id, "mo", "dee", "OWNER")
    by_mod = await _invite(http, scenario.group_id, "mo", "dee")

    assert by_member.status_code == 403
    assert by_outsider.status_code == 403
    assert owner_by_mod.status_code == 403
    assert by_mod.status_code == 201, by_mod.text
    members = {m["user_id"] for m in (await _group(http, scenario.group_id, "ana"))["members"]}
    assert members == {"ana", "bo", "mo", "dee"}


async def test_a_mod_cannot_lower_the_role_an_owner_gave_a_pending_invitation(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana"])
    await _invite(http, scenario.group_id, "ana", "mo", "MOD")
    await _accept(http, scenario.group_id, "mo")
    await _invite(http, scenario.group_id, "ana", "cy", "OWNER")

    lowered = await _invite(http, scenario.group_id, "mo", "cy", "MEMBER")
    renewed_by_owner = await _invite(http, scenario.group_id, "ana", "cy", "OWNER")

    assert lowered.status_code == 403
    assert "pending invitation" in lowered.json()["message"]
    assert renewed_by_owner.status_code == 201
    await _accept(http, scenario.group_id, "cy")
    assert _member(await _group(http, scenario.group_id, "cy"), "cy")["role"] == "OWNER"


async def test_invitations_carry_the_role_and_refuse_unknown_roles(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana"])

    unknown = await _invite(http, scenario.group_id, "ana", "bo", "KING")
    as_owner = await _invite(http, scenario.group_id, "ana", "bo", "OWNER")

    assert unknown.status_code == 400
    assert as_owner.status_code == 201
    await _accept(http, scenario.group_id, "bo")
    assert _member(await _group(http, scenario.group_id, "bo"), "bo")["role"] == "OWNER"


async def test_an_active_member_cannot_be_invited_again(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])

    response = await _invite(http, scenario.group_id, "ana", "bo")

    assert response.status_code == 409
    assert _member(await _group(http, scenario.group_id, "ana"), "bo")["status"] == "ACTIVE"


async def test_only_the_invitee_can_accept_an_invitation(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana"])
    await _invite(http, scenario.group_id, "ana", "bo")

    stranger = await _accept(http, scenario.group_id, "zed")
    invitee = await _accept(http, scenario.group_id, "bo")
    again = await _accept(http, scenario.group_id, "bo")

    assert stranger.status_code == 403
    assert invitee.status_code == 200
    assert invitee.json()["status"] == "ACTIVE"
    assert again.status_code == 409
    members = {m["user_id"] for m in (await _group(http, scenario.group_id, "ana"))["members"]}
    assert members == {"ana", "bo"}


async def test_an_owner_removes_a_member_who_then_loses_access(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])

    response = await _remove(http, scenario.group_id, "ana", "bo")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "REMOVED"
    assert _member(await _group(http, scenario.group_id, "ana"), "bo")["status"] == "REMOVED"
    lost = await http.get(f"/groups/{scenario.group_id}", headers=auth("bo"))
    assert lost.status_code == 403
    assert (await http.get("/groups", headers=auth("bo"))).json() == []


async def test_a_member_may_leave_but_not_remove_others(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo", "cy"])

    other = await _remove(http, scenario.group_id, "bo", "cy")
    oneself = await _remove(http, scenario.group_id, "bo", "bo")

    assert other.status_code == 403
    assert oneself.status_code == 200
    statuses = {
        m["user_id"]: m["status"] for m in (await _group(http, scenario.group_id, "ana"))["members"]
    }
    assert statuses == {"ana": "ACTIVE", "bo": "REMOVED", "cy": "ACTIVE"}


async def test_a_mod_removes_members_but_not_the_owner(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await _invite(http, scenario.group_id, "ana", "mo", "MOD")
    await _accept(http, scenario.group_id, "mo")

    owner = await _remove(http, scenario.group_id, "mo", "ana")
    member = await _remove(http, scenario.group_id, "mo", "bo")

    assert owner.status_code == 403
    assert member.status_code == 200
    statuses = {
        m["user_id"]: m["status"] for m in (await _group(http, scenario.group_id, "ana"))["members"]
    }
    assert statuses == {"ana": "ACTIVE", "bo": "REMOVED", "mo": "ACTIVE"}


async def test_removing_someone_who_is_not_a_member_is_refused(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await _remove(http, scenario.group_id, "ana", "bo")

    twice = await _remove(http, scenario.group_id, "ana", "bo")
    stranger = await _remove(http, scenario.group_id, "ana", "zed")

    assert twice.status_code == 409
    assert stranger.status_code == 409


async def test_a_removed_member_can_be_invited_again_and_rejoin(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await _remove(http, scenario.group_id, "ana", "bo")
    assert (await _accept(http, scenario.group_id, "bo")).status_code == 403

    invite = await _invite(http, scenario.group_id, "ana", "bo", "MOD")
    accept = await _accept(http, scenario.group_id, "bo")

    assert invite.status_code == 201
    assert accept.status_code == 200
    member = _member(await _group(http, scenario.group_id, "bo"), "bo")
    assert (member["role"], member["status"]) == ("MOD", "ACTIVE")


async def test_a_group_lists_its_sessions_newest_first(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    ids = []
    for rounds in (1, 2):
        created = await http.post(
            f"/group-sessions?groupId={scenario.group_id}",
            json={"rounds_count": rounds},
            headers=auth("ana"),
        )
        ids.append(created.json()["id"])

    response = await http.get(f"/groups/{scenario.group_id}/sessions", headers=auth("bo"))

    assert response.status_code == 200
    listed = response.json()
    assert [s["id"] for s in listed] == list(reversed(ids))
    assert [(s["status"], s["rounds_count"], s["seq"]) for s in listed] == [
        ("CREATED", 2, 0),
        ("CREATED", 1, 0),
    ]


async def test_membership_answers_show_the_member_as_the_group_lists_them(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana", "bo"])

    listed = await scenario.call("GET", f"/groups/{scenario.group_id}", "ana", expect=200)
    removed = await scenario.call(
        "DELETE", f"/groups/{scenario.group_id}/members/bo", "ana", expect=200
    )

    bo = next(m for m in listed.json()["members"] if m["user_id"] == "bo")
    assert bo["email"] == "bo@example.org" and bo["user_name"] == "Bo"
    assert removed.json()["email"] == "bo@example.org"
    assert removed.json()["user_name"] == "Bo" and removed.json()["status"] == "REMOVED"
