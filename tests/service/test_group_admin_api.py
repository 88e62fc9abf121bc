"""Group administration over REST (API.md §3 "Groups"): a group's detail with its playlist,
renaming a group and changing a member's role, on SQLite and PostgreSQL.

The cast (ana OWNER, mo MOD, mem MEMBER, inv INVITED, rem REMOVED, out outsider) is described in
tests/service/group_cast.py. A refused request must leave the group as it was.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from studygroups.api.schemas import GroupDetailAnswer, MembershipAnswer
from tests.conftest import LiveServer, auth
from tests.service.group_cast import NOT_ALLOWED, NOT_OWNERS, expect, make_cast
from tests.support import make_session

# --- GET /groups/:groupId carries the playlist -----------------------------------------------


async def test_a_group_shows_its_playlist_in_order_to_every_active_member(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http, contents=("intro", "forces", "energy"))

    for viewer in ("ana", "mo", "mem"):
        group = await cast.view(viewer)
        assert [(c["content_id"], c["position"]) for c in group["contents"]] == [
            ("intro", 1),
            ("forces", 2),
            ("energy", 3),
        ]
    assert {c["added_by"] for c in group["contents"]} == {"ana"}
    assert set(group) == set(GroupDetailAnswer.model_fields)
    GroupDetailAnswer.model_validate(group)


async def test_a_new_group_has_an_empty_playlist(http: httpx.AsyncClient) -> None:
    response = await http.post("/groups", json={"name": "Empty"}, headers=auth("ana"))

    assert response.status_code == 201
    assert response.json()["contents"] == []


# --- PATCH /groups/:groupId ------------------------------------------------------------------


@pytest.mark.parametrize("editor", ["ana", "mo"])
async def test_an_owner_or_mod_renames_a_group_and_changes_or_clears_its_scope(
    http: httpx.AsyncClient, editor: str
) -> None:
    cast = await make_cast(http)

    renamed = await cast.call(
        "PATCH", "", editor, {"name": "  Physics II ", "scope_type": None, "scope_id": "ph-2"}
    )

    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert (body["name"], body["scope_type"], body["scope_id"]) == ("Physics II", None, "ph-2")
    assert body == await cast.view()


async def test_a_group_patch_changes_only_the_fields_it_sends(http: httpx.AsyncClient) -> None:
    cast = await make_cast(http)

    await expect(await cast.call("PATCH", "", "ana", {"scope_id": "ph-1"}), 200)

    group = await cast.view()
    assert (group["name"], group["scope_type"], group["scope_id"]) == ("Physics", "course", "ph-1")


async def test_an_empty_group_patch_changes_nothing_and_answers_the_group(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "", "ana", {})

    assert (response.status_code, response.json()) == (200, before)
    assert await cast.view() == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": None},
        {"name": "n" * 201},
        {"name": 7},
        {"scope_type": "t" * 65},
        {"scope_id": "i" * 201},
        ["name"],
        None,
    ],
)
async def test_an_invalid_group_patch_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, body: Any
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "", "ana", body)

    assert response.status_code == 400, response.text
    assert response.json()["statusCode"] == 400
    assert await cast.view() == before


@pytest.mark.parametrize("user", NOT_ALLOWED)
async def test_only_an_active_owner_or_mod_may_patch_a_group(
    http: httpx.AsyncClient, user: str
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "", user, {"name": "Taken over"})

    assert response.status_code == 403, response.text
    assert await cast.view() == before


async def test_patching_an_unknown_group_is_not_found(http: httpx.AsyncClient) -> None:
    response = await http.patch("/groups/nope", json={"name": "X"}, headers=auth("ana"))

    assert (response.status_code, response.json()["message"]) == (404, "group not found")


# --- PATCH /groups/:groupId/members/:userId --------------------------------------------------


async def test_an_owner_promotes_a_member_to_mod_who_may_then_manage_the_playlist(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    assert (await cast.add("c2", user="mem")).status_code == 403

    promoted = await cast.call("PATCH", "/members/mem", "ana", {"role": "MOD"})

    assert promoted.status_code == 200, promoted.text
    answer = promoted.json()
    assert (answer["user_id"], answer["role"], answer["status"]) == ("mem", "MOD", "ACTIVE")
    assert answer["group_id"] == cast.group_id
    assert set(answer) == set(MembershipAnswer.model_fields)
    assert await cast.role_of("mem") == ("MOD", "ACTIVE")
    assert (await cast.add("c2", user="mem")).status_code == 201


async def test_a_member_made_mod_facilitates_the_groups_sessions_and_loses_it_when_made_member(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"], start=False)
    assert scenario.facilitator == "ana"  # cy is dealt TIMEKEEPER
    start = f"/group-sessions/{scenario.session_id}/start"
    members = f"/groups/{scenario.group_id}/members/cy"
    await scenario.call("PUT", start, "cy", expect=403)

    await scenario.call("PATCH", members, "ana", {"role": "MOD"}, expect=200)
    await scenario.call("PUT", start, "cy", expect=200)
    await scenario.call("PATCH", members, "ana", {"role": "MEMBER"}, expect=200)

    finish = await scenario.call(
        "PUT", f"/group-sessions/{scenario.session_id}/status", "cy", {"status": "FINISHED"}
    )
    assert finish.status_code == 403, finish.text


async def test_an_owner_makes_another_owner_who_may_then_demote_the_first(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)

    await expect(await cast.call("PATCH", "/members/mo", "ana", {"role": "OWNER"}), 200)
    demoted = await cast.call("PATCH", "/members/ana", "mo", {"role": "MEMBER"})

    assert demoted.status_code == 200, demoted.text
    assert await cast.role_of("ana") == ("MEMBER", "ACTIVE")
    assert await cast.role_of("mo") == ("OWNER", "ACTIVE")


async def test_an_owner_may_step_down_while_another_active_owner_remains(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    await expect(await cast.call("PATCH", "/members/mo", "ana", {"role": "OWNER"}), 200)

    stepped_down = await cast.call("PATCH", "/members/ana", "ana", {"role": "MOD"})

    assert stepped_down.status_code == 200, stepped_down.text
    assert await cast.role_of("ana") == ("MOD", "ACTIVE")


@pytest.mark.parametrize("role", ["MOD", "MEMBER"])
async def test_the_last_active_owner_cannot_be_demoted(http: httpx.AsyncClient, role: str) -> None:
    # inv was invited as OWNER but has not accepted: an INVITED owner does not count.
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "/members/ana", "ana", {"role": role})

    assert response.status_code == 409, response.text
    assert "last OWNER" in response.json()["message"]
    assert await cast.view() == before


async def test_the_last_active_owner_cannot_leave_the_group(http: httpx.AsyncClient) -> None:
    # inv was invited as OWNER but has not accepted: an INVITED owner does not count.
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("DELETE", "/members/ana", "ana")

    assert response.status_code == 409, response.text
    assert "last OWNER cannot leave" in response.json()["message"]
    assert await cast.view() == before


async def test_an_owner_may_leave_while_another_active_owner_remains(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    await expect(await cast.call("PATCH", "/members/mo", "ana", {"role": "OWNER"}), 200)

    left = await cast.call("DELETE", "/members/ana", "ana")

    assert left.status_code == 200, left.text
    assert left.json()["status"] == "REMOVED"
    members = {m["user_id"]: m for m in (await cast.view("mo"))["members"]}
    assert (members["mo"]["role"], members["mo"]["status"]) == ("OWNER", "ACTIVE")
    assert members.get("ana", {"status": "REMOVED"})["status"] == "REMOVED"


async def test_setting_the_role_a_member_already_has_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "/members/ana", "ana", {"role": "OWNER"})

    assert response.status_code == 200, response.text
    assert await cast.view() == before


async def test_an_invited_members_role_changes_and_they_join_with_it(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)

    changed = await cast.call("PATCH", "/members/inv", "ana", {"role": "MEMBER"})
    await expect(await cast.call("POST", "/members/accept", "inv"), 200)

    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["status"]) == ("MEMBER", "INVITED")
    assert await cast.role_of("inv") == ("MEMBER", "ACTIVE")


async def test_a_removed_members_role_cannot_change(http: httpx.AsyncClient) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "/members/rem", "ana", {"role": "MEMBER"})

    assert response.status_code == 409, response.text
    assert await cast.view() == before


@pytest.mark.parametrize("user", NOT_OWNERS)
async def test_only_an_active_owner_changes_roles(http: httpx.AsyncClient, user: str) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    for target, role in [("mem", "MOD"), (user, "OWNER"), ("ana", "MEMBER")]:
        response = await cast.call("PATCH", f"/members/{target}", user, {"role": role})
        assert response.status_code == 403, (target, response.text)
    assert await cast.view() == before


@pytest.mark.parametrize("body", [{"role": "ADMIN"}, {"role": "mod"}, {"role": None}, {}, None])
async def test_a_role_change_needs_one_of_the_three_roles(
    http: httpx.AsyncClient, body: Any
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "/members/mem", "ana", body)

    assert response.status_code == 400, response.text
    assert await cast.view() == before


async def test_the_role_of_a_user_who_is_not_in_the_group_is_not_found(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("PATCH", "/members/out", "ana", {"role": "MOD"})
    unknown_group = await http.patch(
        "/groups/nope/members/mem", json={"role": "MOD"}, headers=auth("ana")
    )

    assert response.status_code == 404, response.text
    assert unknown_group.status_code == 404
    assert await cast.view() == before


# --- two OWNERs at once (a live server; each user on their own connection) --------------------

RACES = 8  # groups raced at once, so that the requests of a pair really overlap


async def _groups_with_two_owners(live: LiveServer) -> list[str]:
    async with httpx.AsyncClient(base_url=live.url) as setup:
        group_ids = []
        for _ in range(RACES):
            created = await setup.post("/groups", json={"name": "Duo"}, headers=auth("ana"))
            group_id = created.json()["id"]
            invite = {"user_id": "bo", "role": "OWNER"}
            path = f"/groups/{group_id}/members"
            await expect(await setup.post(f"{path}/invite", json=invite, headers=auth("ana")), 201)
            await expect(await setup.post(f"{path}/accept", headers=auth("bo")), 200)
            group_ids.append(group_id)
        return group_ids


async def _race(
    live: LiveServer, changes: list[tuple[str, str]], *, remove: bool = False
) -> list[list[int]]:
    """For every group at once, each (actor, target) pair demotes target to MEMBER (or removes
    them from the group) at once; the statuses each group's pair got, sorted."""
    group_ids = await _groups_with_two_owners(live)
    async with (
        httpx.AsyncClient(base_url=live.url, headers=auth("ana"), timeout=30) as ana,
        httpx.AsyncClient(base_url=live.url, headers=auth("bo"), timeout=30) as bo,
    ):
        by = {"ana": ana, "bo": bo}
        responses = await asyncio.gather(
            *(
                by[actor].delete(f"/groups/{group_id}/members/{target}")
                if remove
                else by[actor].patch(
                    f"/groups/{group_id}/members/{target}", json={"role": "MEMBER"}
                )
                for group_id in group_ids
                for actor, target in changes
            )
        )
        statuses = [r.status_code for r in responses]
        owners = []
        for group_id in group_ids:
            views = [await member.get(f"/groups/{group_id}") for member in (ana, bo)]
            # whoever is still in the group sees it (one of them may have left it)
            members = next(v.json()["members"] for v in views if v.status_code == 200)
            owners.append(
                [m["user_id"] for m in members if m["role"] == "OWNER" and m["status"] == "ACTIVE"]
            )
    assert all(len(left) == 1 for left in owners), owners
    pairs = [statuses[i : i + len(changes)] for i in range(0, len(statuses), len(changes))]
    return [sorted(pair) for pair in pairs]


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(live: LiveServer) -> None:
    # The second to get the group's lock is no longer an OWNER: 403.
    results = await _race(live, [("ana", "bo"), ("bo", "ana")])

    assert results == [[200, 403]] * RACES


async def test_two_owners_stepping_down_at_once_leave_one_owner(live: LiveServer) -> None:
    # The second to get the group's lock is the last OWNER: 409.
    results = await _race(live, [("ana", "ana"), ("bo", "bo")])

    assert results == [[200, 409]] * RACES


async def test_two_owners_leaving_at_once_leave_one_owner(live: LiveServer) -> None:
    # The second to get the group's lock is the last OWNER: 409, and stays in the group.
    results = await _race(live, [("ana", "ana"), ("bo", "bo")], remove=True)

    assert results == [[200, 409]] * RACES


# --- the OpenAPI document --------------------------------------------------------------------


async def test_the_openapi_document_describes_the_administration_answers(
    http: httpx.AsyncClient,
) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]

    def schema(path: str, method: str, status: str) -> Any:
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    assert schema("/groups/{group_id}", "patch", "200") == {
        "$ref": "#/components/schemas/GroupDetailAnswer"
    }
    assert schema("/groups/{group_id}/members/{user_id}", "patch", "200") == {
        "$ref": "#/components/schemas/MembershipAnswer"
    }
    assert schema("/groups/{group_id}/contents", "post", "201") == {
        "$ref": "#/components/schemas/ContentAnswer"
    }
    removal = paths["/groups/{group_id}/contents/{content_id}"]["delete"]["responses"]
    assert "204" in removal and "content" not in removal["204"]
    assert schema("/groups/{group_id}/members/{user_id}", "patch", "409") == {
        "$ref": "#/components/schemas/ErrorAnswer"
    }
    post = paths["/groups/{group_id}/contents"]["post"]
    assert "idempotency-key" in [p["name"].lower() for p in post["parameters"]]
