"""Sessions over REST: creation, role dealing, reading, starting and finishing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import auth
from tests.service.observe import ISO_UTC_MILLIS, feed_events, snapshot
from tests.support import Scenario, make_group, make_session

DEALT = ["FACILITATOR", "SCRIBE", "TIMEKEEPER", "CLARIFIER", "CONNECTOR"]


async def _create(http: httpx.AsyncClient, group_id: str, by: str, body: Any) -> httpx.Response:
    return await http.post(f"/group-sessions?groupId={group_id}", json=body, headers=auth(by))


def _roles(session: dict[str, Any]) -> dict[str, str]:
    return {m["user_id"]: m["role"] for m in session["members"]}


def _expected_roles(member_ids: list[str], finished: int) -> dict[str, str]:
    ordered = sorted(member_ids)
    shift = finished % len(ordered)
    rotated = ordered[shift:] + ordered[:shift]
    return {user: DEALT[i] if i < len(DEALT) else "PARTICIPANT" for i, user in enumerate(rotated)}


async def _finish(scenario: Scenario, session_id: str) -> None:
    response = await scenario.call(
        "PUT", f"/group-sessions/{session_id}/status", scenario.owner, {"status": "FINISHED"}
    )
    assert response.status_code == 200, response.text


async def test_a_new_session_has_every_active_member_created_rounds_and_no_events(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana", "bo", "cy"])
    await http.post(
        f"/groups/{scenario.group_id}/members/invite",
        json={"user_id": "dee", "role": "MEMBER"},
        headers=auth("ana"),
    )

    response = await _create(http, scenario.group_id, "bo", {"rounds_count": 3})

    assert response.status_code == 201, response.text
    session = response.json()
    assert session["group_id"] == scenario.group_id
    assert (session["status"], session["seq"], session["rounds_count"]) == ("CREATED", 0, 3)
    assert (session["mode"], session["layer"], session["content_id"]) == ("PI", "L1", None)
    assert session["created_by"] == "bo"
    assert ISO_UTC_MILLIS.match(session["created_at"])
    assert sorted(_roles(session)) == ["ana", "bo", "cy"]
    assert [r["round_index"] for r in session["rounds"]] == [1, 2, 3]
    assert {r["status"] for r in session["rounds"]} == {"CREATED"}
    assert session["shared_cards"] == []


async def test_a_session_needs_at_least_two_active_members(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await http.delete(f"/groups/{scenario.group_id}/members/bo", headers=auth("ana"))
    await http.post(
        f"/groups/{scenario.group_id}/members/invite",
        json={"user_id": "cy", "role": "MEMBER"},
        headers=auth("ana"),
    )

    response = await _create(http, scenario.group_id, "ana", {"rounds_count": 1})

    assert response.status_code == 409
    assert "2" in response.json()["message"]
    listed = await http.get(f"/groups/{scenario.group_id}/sessions", headers=auth("ana"))
    assert listed.json() == []


async def test_rounds_count_may_be_anything_from_one_to_ten(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])

    for rounds_count in [1, 10]:
        response = await _create(http, scenario.group_id, "ana", {"rounds_count": rounds_count})
        assert response.status_code == 201
        assert len(response.json()["rounds"]) == rounds_count


async def test_rounds_count_outside_one_to_ten_or_of_the_wrong_type_is_refused(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    bodies: list[Any] = [
        {"rounds_count": 0},
        {"rounds_count": 11},
        {"rounds_count": -1},
        {"rounds_count": "3"},
        {"rounds_count": 2.5},
        {"rounds_count": True},
        {"rounds_count": None},
        {},
        {"rounds_count": 2, "layer": "L9"},
        {"rounds_count": 2, "mode": ""},
        [2],
    ]

    for body in bodies:
        response = await _create(http, scenario.group_id, "ana", body)
        assert response.status_code == 400, body
        assert response.json()["statusCode"] == 400

    listed = await http.get(f"/groups/{scenario.group_id}/sessions", headers=auth("ana"))
    assert listed.json() == []


async def test_only_active_members_of_a_known_group_create_sessions(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    await http.post(
        f"/groups/{scenario.group_id}/members/invite",
        json={"user_id": "cy", "role": "MEMBER"},
        headers=auth("ana"),
    )

    invited = await _create(http, scenario.group_id, "cy", {"rounds_count": 1})
    outsider = await _create(http, scenario.group_id, "zed", {"rounds_count": 1})
    unknown = await _create(http, "no-such-group", "ana", {"rounds_count": 1})
    missing = await http.post("/group-sessions", json={"rounds_count": 1}, headers=auth("ana"))

    assert (invited.status_code, outsider.status_code) == (403, 403)
    assert unknown.status_code == 404
    assert missing.status_code == 400


async def test_roles_are_dealt_in_order_to_members_sorted_by_id_for_two_to_seven_members(
    http: httpx.AsyncClient,
) -> None:
    # Created in an order unlike their sorted order, so sorting is what decides.
    people = ["mia", "bo", "zoe", "ana", "kai", "cy", "eve"]
    scenario = await make_group(http, people[:2])
    for size in range(2, 8):
        if size > 2:
            newcomer = people[size - 1]
            await http.post(
                f"/groups/{scenario.group_id}/members/invite",
                json={"user_id": newcomer, "role": "MEMBER"},
                headers=auth("mia"),
            )
            await http.post(f"/groups/{scenario.group_id}/members/accept", headers=auth(newcomer))

        response = await _create(http, scenario.group_id, "mia", {"rounds_count": 1})

        assert response.status_code == 201, response.text
        assert _roles(response.json()) == _expected_roles(people[:size], 0), size


async def test_each_finished_session_rotates_the_roles_by_one_member(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_group(http, ["cy", "ana", "bo"])
    members = ["ana", "bo", "cy"]
    dealt = []
    for _ in range(4):
        response = await _create(http, scenario.group_id, "cy", {"rounds_count": 1})
        session = response.json()
        dealt.append(_roles(session))
        await _finish(scenario, session["id"])

    assert dealt == [_expected_roles(members, finished) for finished in range(4)]
    assert [d["ana"] for d in dealt] == ["FACILITATOR", "TIMEKEEPER", "SCRIBE", "FACILITATOR"]


async def test_sessions_that_are_not_finished_do_not_rotate_the_roles(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.call(
        "PUT",
        f"/group-sessions/{scenario.session_id}/status",
        "ana",
        {"status": "POST"},
        expect=200,
    )

    response = await _create(http, scenario.group_id, "ana", {"rounds_count": 1})

    assert _roles(response.json()) == _expected_roles(["ana", "bo", "cy"], 0)


async def test_rounds_take_their_timers_from_the_layer(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])
    layers = {"L1": (60, 180, 60, 180), "L2": (90, 240, 90, 240), "L3": (90, 240, 90, 240)}

    for layer, timers in layers.items():
        response = await _create(
            http, scenario.group_id, "ana", {"rounds_count": 2, "layer": layer, "content_id": "c"}
        )
        session = response.json()
        assert (session["layer"], session["content_id"]) == (layer, "c")
        for round_ in session["rounds"]:
            t = round_["timers"]
            assert (t["vote_sec"], t["discuss_sec"], t["revote_sec"], t["explain_sec"]) == timers


async def test_reading_a_session_shows_rounds_members_progress_cards_and_seq(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"], rounds=2)
    await scenario.run_round(1)
    await scenario.advance(2, "VOTING")
    await scenario.submit("cy", 2, "PI_VOTE_SUBMIT", {"choice": "B"})

    response = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "cy")

    assert response.status_code == 200
    session = response.json()
    assert session["status"] == "RUNNING"
    assert session["seq"] == len(await feed_events(scenario))
    assert _roles(session) == {"ana": "FACILITATOR", "bo": "SCRIBE", "cy": "TIMEKEEPER"}
    assert {m["user_name"] for m in session["members"]} == {"Ana", "Bo", "Cy"}
    first, second = session["rounds"]
    assert (first["status"], second["status"]) == ("DONE", "VOTING")
    assert first["vote_progress"]["voted_user_ids"] == ["ana", "bo", "cy"]
    assert first["vote_progress"]["revoted_user_ids"] == ["ana", "bo", "cy"]
    assert second["vote_progress"] == {
        "required": 3,
        "voted": 1,
        "revoted": 0,
        "voted_user_ids": ["cy"],
        "revoted_user_ids": [],
    }
    assert (first["has_shared_card"], second["has_shared_card"]) == (True, False)
    [card] = session["shared_cards"]
    assert (card["round_index"], card["explanation"], card["created_by"]) == (
        1,
        "Because A.",
        "bo",
    )


async def test_only_active_members_read_a_session_and_unknown_ids_are_not_found(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/bo", "ana", expect=200)

    for user in ["bo", "zed"]:
        refused = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", user)
        assert refused.status_code == 403, user
    unknown = await scenario.call("GET", "/group-sessions/no-such-session", "ana")
    assert unknown.status_code == 404


async def test_the_facilitator_starts_a_created_session_once(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"], start=False)
    path = f"/group-sessions/{scenario.session_id}/start"

    by_scribe = await scenario.call("PUT", path, "bo")
    by_outsider = await scenario.call("PUT", path, "zed")
    started = await scenario.call("PUT", path, "ana")
    again = await scenario.call("PUT", path, "ana")

    assert (by_scribe.status_code, by_outsider.status_code) == (403, 403)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "RUNNING"
    assert ISO_UTC_MILLIS.match(started.json()["started_at"])
    assert again.status_code == 409
    assert [e["event"] for e in await feed_events(scenario)] == ["session.started"]


async def test_a_group_owner_or_mod_facilitates_without_the_facilitator_role(
    http: httpx.AsyncClient,
) -> None:
    # Sorted ids make "ana" the FACILITATOR; "zoe" owns the group and "mo" moderates it.
    scenario = await make_group(http, ["zoe", "ana"])
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "zoe",
        {"user_id": "mo", "role": "MOD"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "mo", expect=200)
    created = await _create(http, scenario.group_id, "ana", {"rounds_count": 1})
    session_id = created.json()["id"]
    assert _roles(created.json())["ana"] == "FACILITATOR"

    started = await scenario.call("PUT", f"/group-sessions/{session_id}/start", "zoe")
    advanced = await scenario.call(
        "POST", f"/group-sessions/{session_id}/rounds/1/advance", "mo", {"to_status": "VOTING"}
    )

    assert started.status_code == 200
    assert advanced.status_code == 200


async def test_a_running_session_moves_to_post_and_then_finishes(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    path = f"/group-sessions/{scenario.session_id}/status"

    post = await scenario.call("PUT", path, "ana", {"status": "POST"})
    finished = await scenario.call("PUT", path, "ana", {"status": "FINISHED"})

    assert post.status_code == 200
    assert post.json()["status"] == "POST"
    assert finished.status_code == 200
    assert finished.json()["status"] == "FINISHED"
    assert ISO_UTC_MILLIS.match(finished.json()["finished_at"])
    events = await feed_events(scenario)
    assert [e["event"] for e in events][-1] == "session.ended"


async def test_a_created_session_may_finish_without_ever_running(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)

    response = await scenario.call(
        "PUT", f"/group-sessions/{scenario.session_id}/status", "ana", {"status": "FINISHED"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "FINISHED"


async def test_session_status_changes_are_refused_unless_allowed(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)
    path = f"/group-sessions/{scenario.session_id}/status"
    before = await snapshot(scenario)

    post_before_start = await scenario.call("PUT", path, "ana", {"status": "POST"})
    by_member = await scenario.call("PUT", path, "bo", {"status": "FINISHED"})
    to_running = await scenario.call("PUT", path, "ana", {"status": "RUNNING"})
    to_created = await scenario.call("PUT", path, "ana", {"status": "CREATED"})
    unknown = await scenario.call("PUT", path, "ana", {"status": "PAUSED"})
    lowercase = await scenario.call("PUT", path, "ana", {"status": "finished"})

    assert post_before_start.status_code == 409
    assert by_member.status_code == 403
    assert [to_running.status_code, to_created.status_code] == [400, 400]
    assert [unknown.status_code, lowercase.status_code] == [400, 400]
    assert await snapshot(scenario) == before


async def test_a_finished_session_refuses_every_change(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    await _finish(scenario, scenario.session_id)
    before = await snapshot(scenario)
    sid = scenario.session_id

    refused = [
        await scenario.call("PUT", f"/group-sessions/{sid}/start", "ana"),
        await scenario.call("PUT", f"/group-sessions/{sid}/status", "ana", {"status": "FINISHED"}),
        await scenario.call("PUT", f"/group-sessions/{sid}/status", "ana", {"status": "POST"}),
        await scenario.call(
            "PATCH", f"/group-sessions/{sid}/rounds/1/prompt", "ana", {"prompt_text": "Q?"}
        ),
        await scenario.call(
            "PUT", f"/group-sessions/{sid}/rounds/1/prompt", "ana", {"prompt_text": "Q?"}
        ),
        await scenario.advance(1, "DISCUSSING", force=True, expect=None),
        await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"}, expect=None),
        await scenario.chat("bo", "still there?", expect=None),
    ]

    assert [r.status_code for r in refused] == [409] * len(refused)
    assert await snapshot(scenario) == before
