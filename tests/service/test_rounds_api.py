"""Rounds over REST: prompts, the one legal next status, and the gates between statuses."""

from __future__ import annotations

import httpx
import pytest

from tests.service.observe import feed_events, round_of, snapshot
from tests.support import Scenario, make_session

ORDER = ["CREATED", "VOTING", "DISCUSSING", "REVOTING", "EXPLAINING", "DONE"]


def _prompt_path(scenario: Scenario, round_index: int = 1) -> str:
    return f"/group-sessions/{scenario.session_id}/rounds/{round_index}/prompt"


async def _round_status(scenario: Scenario, round_index: int = 1) -> str:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}", scenario.owner, expect=200
    )
    status: str = round_of(response.json(), round_index)["status"]
    return status


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_the_facilitator_sets_a_rounds_prompt_and_options(
    http: httpx.AsyncClient, method: str
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)

    response = await scenario.call(
        method,
        _prompt_path(scenario, 2),
        "ana",
        {
            "prompt_text": " Which is right? ",
            "options": ["A", " B "],
            "linked_highlight_ids": ["h1"],
        },
    )

    assert response.status_code == 200, response.text
    session = (await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "bo")).json()
    round_ = round_of(session, 2)
    assert round_["prompt_text"] == "Which is right?"
    assert round_["options"] == ["A", "B"]
    assert round_["linked_highlight_ids"] == ["h1"]
    assert round_of(session, 1)["prompt_text"] is None
    assert (await feed_events(scenario))[-1]["event"] == "prompt.updated"


async def test_a_later_prompt_replaces_the_earlier_one(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.call(
        "PATCH", _prompt_path(scenario), "ana", {"prompt_text": "Old", "options": ["A", "B"]}
    )

    await scenario.call("PUT", _prompt_path(scenario), "ana", {"prompt_text": "New"}, expect=200)

    session = (await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "bo")).json()
    assert (round_of(session, 1)["prompt_text"], round_of(session, 1)["options"]) == ("New", None)


async def test_a_prompt_can_be_set_before_the_session_starts(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)

    response = await scenario.call("PATCH", _prompt_path(scenario), "ana", {"prompt_text": "Q?"})

    assert response.status_code == 200


async def test_prompt_updates_are_refused_to_non_facilitators_and_for_bad_input(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)

    by_member = await scenario.call("PATCH", _prompt_path(scenario), "bo", {"prompt_text": "Q?"})
    invalid = [
        {"prompt_text": ""},
        {"prompt_text": "   "},
        {"prompt_text": "x" * 2001},
        {"prompt_text": 7},
        {"prompt_text": "Q?", "options": ["A", "A"]},
        {"prompt_text": "Q?", "options": ["A", ""]},
        {"prompt_text": "Q?", "options": "A,B"},
        {},
    ]
    refused = [
        await scenario.call("PATCH", _prompt_path(scenario), "ana", body) for body in invalid
    ]
    beyond = await scenario.call("PATCH", _prompt_path(scenario, 2), "ana", {"prompt_text": "Q"})

    assert by_member.status_code == 403
    assert [r.status_code for r in refused] == [400] * len(invalid)
    assert beyond.status_code == 400
    assert await snapshot(scenario) == before


async def test_a_round_goes_forward_one_status_at_a_time(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    await scenario.run_round(1)

    events = [e for e in await feed_events(scenario) if e["event"] == "round.advanced"]
    assert [e["data"]["status"] for e in events] == ORDER[1:]
    assert await _round_status(scenario) == "DONE"


async def test_skipping_a_status_or_going_back_is_a_conflict(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    before = await snapshot(scenario)

    for target in ["CREATED", "VOTING", "REVOTING", "EXPLAINING", "DONE"]:
        response = await scenario.advance(1, target, force=True, expect=None)
        assert response.status_code == 409, target
        assert "DISCUSSING" in response.json()["message"]

    assert await snapshot(scenario) == before


async def test_a_done_round_goes_nowhere(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.run_round(1)
    before = await snapshot(scenario)

    for target in ORDER:
        response = await scenario.advance(1, target, force=True, expect=None)
        assert response.status_code == 409, target

    assert await snapshot(scenario) == before


async def test_rounds_advance_only_while_the_session_is_running(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)

    before_start = await scenario.advance(1, "VOTING", expect=None)
    await scenario.start()
    await scenario.call(
        "PUT",
        f"/group-sessions/{scenario.session_id}/status",
        "ana",
        {"status": "POST"},
        expect=200,
    )
    after_post = await scenario.advance(1, "VOTING", expect=None)

    assert before_start.status_code == 409
    assert after_post.status_code == 409
    assert await _round_status(scenario) == "CREATED"


async def test_only_a_facilitator_advances_a_round(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    response = await scenario.call(
        "POST",
        f"/group-sessions/{scenario.session_id}/rounds/1/advance",
        "bo",
        {"to_status": "VOTING"},
    )

    assert response.status_code == 403
    assert await _round_status(scenario) == "CREATED"


async def test_an_unknown_status_or_round_is_refused_as_bad_input(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)
    before = await snapshot(scenario)
    base = f"/group-sessions/{scenario.session_id}/rounds"

    refused = [
        await scenario.call("POST", f"{base}/1/advance", "ana", {"to_status": "FLYING"}),
        await scenario.call("POST", f"{base}/1/advance", "ana", {"to_status": "voting"}),
        await scenario.call("POST", f"{base}/1/advance", "ana", {}),
        await scenario.call(
            "POST", f"{base}/1/advance", "ana", {"to_status": "VOTING", "force": "yes"}
        ),
        await scenario.call("POST", f"{base}/3/advance", "ana", {"to_status": "VOTING"}),
        await scenario.call("POST", f"{base}/0/advance", "ana", {"to_status": "VOTING"}),
    ]

    assert [r.status_code for r in refused] == [400] * len(refused)
    assert await snapshot(scenario) == before


async def test_discussing_waits_for_every_members_vote_and_says_who_is_missing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")
    await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    before = await snapshot(scenario)

    response = await scenario.advance(1, "DISCUSSING", expect=409)

    body = response.json()
    assert (body["statusCode"], body["error"]) == (409, "Conflict")
    assert (body["required"], body["current"], body["missing"]) == (3, 1, ["ana", "cy"])
    assert await snapshot(scenario) == before
    await scenario.submit("ana", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    await scenario.submit("cy", 1, "PI_VOTE_SUBMIT", {"choice": "B"})
    await scenario.advance(1, "DISCUSSING")


async def test_explaining_waits_for_every_members_revote(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")
    await scenario.vote_all(1)
    await scenario.advance(1, "DISCUSSING")
    await scenario.advance(1, "REVOTING")
    await scenario.submit("cy", 1, "PI_REVOTE_SUBMIT", {"choice": "B"})

    response = await scenario.advance(1, "EXPLAINING", expect=409)

    body = response.json()
    assert (body["required"], body["current"], body["missing"]) == (3, 1, ["ana", "bo"])
    assert await _round_status(scenario) == "REVOTING"


async def test_force_waives_the_vote_and_revote_gates(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")

    await scenario.advance(1, "DISCUSSING", force=True)
    await scenario.advance(1, "REVOTING")
    await scenario.advance(1, "EXPLAINING", force=True)

    assert await _round_status(scenario) == "EXPLAINING"


async def test_done_needs_the_explanation_even_when_forced(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")
    await scenario.advance(1, "DISCUSSING", force=True)
    await scenario.advance(1, "REVOTING")
    await scenario.advance(1, "EXPLAINING", force=True)

    forced = await scenario.advance(1, "DONE", force=True, expect=409)

    body = forced.json()
    assert (body["required"], body["current"], body["missing"]) == (1, 0, [])
    assert await _round_status(scenario) == "EXPLAINING"
    await scenario.submit(scenario.scribe, 1, "GROUP_EXPLANATION_SUBMIT", {"explanation": "A."})
    await scenario.advance(1, "DONE")


async def test_a_member_who_left_the_group_is_not_waited_for(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")
    await scenario.submit("ana", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "cy", expect=200)

    await scenario.advance(1, "DISCUSSING")

    assert await _round_status(scenario) == "DISCUSSING"


async def test_vote_progress_counts_the_members_the_gate_waits_for(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")
    await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    await scenario.submit("cy", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "cy", expect=200)

    session = (await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "ana")).json()
    gate = await scenario.advance(1, "DISCUSSING", expect=409)

    progress = round_of(session, 1)["vote_progress"]
    assert (progress["required"], progress["voted"]) == (gate.json()["required"], 1)
    assert (gate.json()["required"], gate.json()["current"]) == (2, 1)
    assert progress["voted_user_ids"] == ["bo"]


async def test_rounds_of_one_session_move_independently(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=3)

    await scenario.advance(2, "VOTING")

    session = (await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "ana")).json()
    assert [r["status"] for r in session["rounds"]] == ["CREATED", "VOTING", "CREATED"]
