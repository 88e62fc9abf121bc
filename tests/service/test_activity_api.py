"""Votes, revotes and the scribe's explanation over REST, and who sees which choice when."""

from __future__ import annotations

from typing import Any

import httpx

from tests.service.observe import feed_events, round_of, snapshot
from tests.support import Scenario, make_session

VOTE, REVOTE, EXPLAIN = "PI_VOTE_SUBMIT", "PI_REVOTE_SUBMIT", "GROUP_EXPLANATION_SUBMIT"


async def _activity(
    scenario: Scenario, viewer: str, round_index: int | None = None
) -> list[dict[str, Any]]:
    params = {} if round_index is None else {"round_index": round_index}
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/events", viewer, expect=200, params=params
    )
    entries: list[dict[str, Any]] = response.json()
    return entries


def _choices(entries: list[dict[str, Any]], event_type: str) -> dict[str, str | None]:
    return {
        e["user_id"]: e["payload"].get("choice") for e in entries if e["event_type"] == event_type
    }


async def _to(scenario: Scenario, status: str, round_index: int = 1) -> None:
    """Take the round on to `status`, forcing gates and with the scribe explaining if needed."""
    order = ["CREATED", "VOTING", "DISCUSSING", "REVOTING", "EXPLAINING", "DONE"]
    session = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}", scenario.owner, expect=200
    )
    current = round_of(session.json(), round_index)["status"]
    for step in order[order.index(current) + 1 : order.index(status) + 1]:
        if step == "DONE":
            await scenario.submit(
                scenario.scribe, round_index, EXPLAIN, {"explanation": "Because."}
            )
        await scenario.advance(round_index, step, force=True)


async def test_a_vote_is_accepted_only_while_the_round_is_voting(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    too_early = await scenario.submit("bo", 1, VOTE, {"choice": "A"}, expect=None)
    await _to(scenario, "VOTING")
    in_time = await scenario.submit("bo", 1, VOTE, {"choice": "A"}, expect=None)
    await _to(scenario, "DISCUSSING")
    too_late = await scenario.submit("ana", 1, VOTE, {"choice": "A"}, expect=None)

    assert (too_early.status_code, in_time.status_code, too_late.status_code) == (409, 201, 409)
    assert in_time.json()["activity"]["payload"] == {"choice": "A"}
    assert _choices(await _activity(scenario, "ana"), VOTE) == {"bo": "A"}


async def test_a_revote_is_accepted_only_while_the_round_is_revoting(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await _to(scenario, "VOTING")

    while_voting = await scenario.submit("bo", 1, REVOTE, {"choice": "A"}, expect=None)
    await _to(scenario, "REVOTING")
    in_time = await scenario.submit("bo", 1, REVOTE, {"choice": "B"}, expect=None)
    await _to(scenario, "EXPLAINING")
    too_late = await scenario.submit("ana", 1, REVOTE, {"choice": "A"}, expect=None)

    assert (while_voting.status_code, in_time.status_code, too_late.status_code) == (
        409,
        201,
        409,
    )
    assert _choices(await _activity(scenario, "ana"), REVOTE) == {"bo": "B"}


async def test_only_the_scribe_explains_and_only_while_the_round_is_explaining(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    assert scenario.scribe == "bo"
    explanation = {"explanation": "Because A.", "group_choice": "A", "key_terms": ["force"]}

    await _to(scenario, "REVOTING")
    too_early = await scenario.submit("bo", 1, EXPLAIN, explanation, expect=None)
    await _to(scenario, "EXPLAINING")
    by_facilitator = await scenario.submit("ana", 1, EXPLAIN, explanation, expect=None)
    by_member = await scenario.submit("cy", 1, EXPLAIN, explanation, expect=None)
    by_scribe = await scenario.submit("bo", 1, EXPLAIN, explanation, expect=None)

    assert too_early.status_code == 409
    assert (by_facilitator.status_code, by_member.status_code) == (403, 403)
    assert by_scribe.status_code == 201, by_scribe.text
    card = by_scribe.json()["shared_card"]
    assert (card["explanation"], card["group_choice"], card["key_terms"]) == (
        "Because A.",
        "A",
        ["force"],
    )
    assert card["created_by"] == "bo"


async def test_the_shared_cards_list_holds_one_card_per_round_updated_by_later_explanations(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)
    await _to(scenario, "EXPLAINING")
    first = await scenario.submit("bo", 1, EXPLAIN, {"explanation": "First try."})

    second = await scenario.submit("bo", 1, EXPLAIN, {"explanation": "Better.", "key_terms": []})

    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/shared-cards", "ana"
    )
    assert response.status_code == 200
    [card] = response.json()
    assert card["id"] == first.json()["shared_card"]["id"] == second.json()["shared_card"]["id"]
    assert (card["round_index"], card["explanation"], card["group_choice"]) == (
        1,
        "Better.",
        None,
    )
    created = [e for e in await feed_events(scenario) if e["event"] == "sharedCard.created"]
    assert len(created) == 2


async def test_shared_cards_are_for_members_only(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    outsider = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/shared-cards", "zed"
    )
    member = await scenario.call("GET", f"/group-sessions/{scenario.session_id}/shared-cards", "bo")

    assert outsider.status_code == 403
    assert (member.status_code, member.json()) == (200, [])


async def test_an_explanation_needs_text_and_a_group_choice_among_the_options(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.call(
        "PATCH",
        f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
        "ana",
        {"prompt_text": "Q?", "options": ["A", "B"]},
        expect=200,
    )
    await _to(scenario, "EXPLAINING")
    before = await snapshot(scenario)

    payloads: list[dict[str, Any]] = [
        {},
        {"explanation": ""},
        {"explanation": 42},
        {"explanation": "Because.", "group_choice": "C"},
        {"explanation": "Because.", "key_terms": "force"},
    ]
    for payload in payloads:
        response = await scenario.submit("bo", 1, EXPLAIN, payload, expect=None)
        assert response.status_code == 400, payload

    assert await snapshot(scenario) == before


async def test_a_choice_must_be_one_of_the_rounds_options_when_it_has_them(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.call(
        "PATCH",
        f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
        "ana",
        {"prompt_text": "Q?", "options": ["A", "B"]},
        expect=200,
    )
    await _to(scenario, "VOTING")
    before = await snapshot(scenario)

    choices: list[dict[str, Any]] = [
        {"choice": "C"},
        {"choice": "a"},
        {"choice": ""},
        {"choice": 1},
        {},
    ]
    for payload in choices:
        response = await scenario.submit("bo", 1, VOTE, payload, expect=None)
        assert response.status_code == 400, payload

    assert await snapshot(scenario) == before
    await scenario.submit("bo", 1, VOTE, {"choice": "B"})


async def test_without_options_any_non_empty_choice_is_accepted(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await _to(scenario, "VOTING")

    accepted = await scenario.submit("bo", 1, VOTE, {"choice": " photosynthesis "})
    empty = await scenario.submit("ana", 1, VOTE, {"choice": "   "}, expect=None)

    assert accepted.json()["activity"]["payload"] == {"choice": "photosynthesis"}
    assert empty.status_code == 400


async def test_a_repeated_vote_replaces_the_earlier_one_and_counts_once(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await _to(scenario, "VOTING")

    await scenario.submit("bo", 1, VOTE, {"choice": "A"})
    await scenario.submit("bo", 1, VOTE, {"choice": "B"})

    entries = await _activity(scenario, "bo")
    assert [(e["user_id"], e["payload"]) for e in entries] == [("bo", {"choice": "B"})]
    session = (await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "ana")).json()
    progress = round_of(session, 1)["vote_progress"]
    assert (progress["voted"], progress["voted_user_ids"]) == (1, ["bo"])
    gate = await scenario.advance(1, "DISCUSSING", expect=409)
    assert (gate.json()["current"], gate.json()["missing"]) == (1, ["ana", "cy"])


async def test_an_unknown_event_type_is_bad_input(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await _to(scenario, "VOTING")
    before = await snapshot(scenario)

    for event_type in ["PI_VOTE", "pi_vote_submit", "", "CHAT"]:
        response = await scenario.submit("bo", 1, event_type, {"choice": "A"}, expect=None)
        assert response.status_code == 400, event_type

    assert await snapshot(scenario) == before


async def test_only_members_dealt_into_the_session_submit_activity(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "ana",
        {"user_id": "late", "role": "MEMBER"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "late", expect=200)
    await _to(scenario, "VOTING")

    latecomer = await scenario.submit("late", 1, VOTE, {"choice": "A"}, expect=None)
    outsider = await scenario.submit("zed", 1, VOTE, {"choice": "A"}, expect=None)

    assert (latecomer.status_code, outsider.status_code) == (403, 403)
    assert await _activity(scenario, "ana") == []


async def test_others_choices_are_hidden_while_voting_except_from_the_voter_and_facilitator(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await _to(scenario, "VOTING")
    await scenario.submit("bo", 1, VOTE, {"choice": "A"})
    await scenario.submit("cy", 1, VOTE, {"choice": "B"})

    as_bo = _choices(await _activity(scenario, "bo"), VOTE)
    as_cy = _choices(await _activity(scenario, "cy"), VOTE)
    as_facilitator = _choices(await _activity(scenario, "ana"), VOTE)

    assert as_bo == {"bo": "A", "cy": None}
    assert as_cy == {"bo": None, "cy": "B"}
    assert as_facilitator == {"bo": "A", "cy": "B"}
    hidden = [e for e in await _activity(scenario, "bo") if e["user_id"] == "cy"]
    assert [(e["choice_hidden"], e["payload"]) for e in hidden] == [(True, {})]


async def test_choices_are_shown_to_everyone_once_their_phase_is_over(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await _to(scenario, "VOTING")
    await scenario.vote_all(1)
    await scenario.advance(1, "DISCUSSING")
    await scenario.advance(1, "REVOTING")
    await scenario.submit("bo", 1, REVOTE, {"choice": "B"})
    await scenario.submit("cy", 1, REVOTE, {"choice": "C"})

    during_revote = await _activity(scenario, "bo")
    await scenario.advance(1, "EXPLAINING", force=True)
    after_revote = await _activity(scenario, "bo")

    assert _choices(during_revote, VOTE) == {"ana": "A", "bo": "A", "cy": "A"}
    assert _choices(during_revote, REVOTE) == {"bo": "B", "cy": None}
    assert _choices(after_revote, REVOTE) == {"bo": "B", "cy": "C"}
    assert not any(e["choice_hidden"] for e in after_revote)


async def test_a_group_mod_sees_every_choice_as_facilitator(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "ana",
        {"user_id": "mo", "role": "MOD"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "mo", expect=200)
    await _to(scenario, "VOTING")
    await scenario.submit("cy", 1, VOTE, {"choice": "B"})

    assert _choices(await _activity(scenario, "mo"), VOTE) == {"cy": "B"}


async def test_activity_can_be_read_per_round_by_members_only(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)
    await _to(scenario, "VOTING", 1)
    await _to(scenario, "VOTING", 2)
    await scenario.submit("bo", 1, VOTE, {"choice": "A"})
    await scenario.submit("bo", 2, VOTE, {"choice": "B"})

    second = await _activity(scenario, "bo", round_index=2)
    outsider = await scenario.call("GET", f"/group-sessions/{scenario.session_id}/events", "zed")
    beyond = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/events", "bo", params={"round_index": 3}
    )

    assert [(e["round_index"], e["payload"]["choice"]) for e in second] == [(2, "B")]
    assert outsider.status_code == 403
    assert beyond.status_code == 400
