"""A round's correct option and results over REST: who sets it, who sees what when, the events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.service.observe import feed_events, round_of, snapshot
from tests.support import Scenario, make_session

VOTE, REVOTE, EXPLAIN = "PI_VOTE_SUBMIT", "PI_REVOTE_SUBMIT", "GROUP_EXPLANATION_SUBMIT"
OPTIONS = ["A", "B", "C"]
# zoe creates the group (OWNER); roles go by sorted id: ana FACILITATOR, bo SCRIBE,
# cy TIMEKEEPER, dan CLARIFIER, zoe CONNECTOR.
PEOPLE = ["zoe", "ana", "bo", "cy", "dan"]
VOTES = {"zoe": "A", "ana": "B", "bo": "A", "cy": "C", "dan": "B"}
REVOTES = {"zoe": "B", "ana": "B", "bo": "B", "cy": "C", "dan": "B"}


def _results_path(scenario: Scenario, round_index: int = 1) -> str:
    return f"/group-sessions/{scenario.session_id}/rounds/{round_index}/results"


async def _results(scenario: Scenario, viewer: str, round_index: int = 1) -> dict[str, Any]:
    response = await scenario.call("GET", _results_path(scenario, round_index), viewer, expect=200)
    found: dict[str, Any] = response.json()
    return found


async def _prompt(
    scenario: Scenario, body: dict[str, Any], user: str = "ana", expect: int | None = 200
) -> httpx.Response:
    path = f"/group-sessions/{scenario.session_id}/rounds/1/prompt"
    return await scenario.call("PATCH", path, user, body, expect=expect)


async def _session_round(scenario: Scenario, viewer: str) -> dict[str, Any]:
    session = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", viewer)
    return round_of(session.json(), 1)


async def _voted_session(http: httpx.AsyncClient, *, correct: str | None = "B") -> Scenario:
    """PEOPLE in a running session whose round 1 asks OPTIONS (correct `correct`), now VOTING
    with VOTES cast."""
    scenario = await make_session(http, PEOPLE)
    body: dict[str, Any] = {"prompt_text": "Which?", "options": OPTIONS}
    if correct is not None:
        body["correct_option"] = correct
    await _prompt(scenario, body)
    await scenario.advance(1, "VOTING")
    for user, choice in VOTES.items():
        await scenario.submit(user, 1, VOTE, {"choice": choice})
    return scenario


async def _step(scenario: Scenario, status: str) -> None:
    """Advance round 1 to `status`: everyone revotes REVOTES, the scribe explains before DONE."""
    if status == "DONE":
        await scenario.submit("bo", 1, EXPLAIN, {"explanation": "B, because."})
    await scenario.advance(1, status)
    if status == "REVOTING":
        for user, choice in REVOTES.items():
            await scenario.submit(user, 1, REVOTE, {"choice": choice})


async def _revote_and_finish(scenario: Scenario, until: str = "DONE") -> None:
    steps = ["DISCUSSING", "REVOTING", "EXPLAINING", "DONE"]
    for step in steps[: steps.index(until) + 1]:
        await _step(scenario, step)


# --- the correct option on the prompt ----------------------------------------------------------


async def test_the_correct_option_is_the_facilitators_until_the_round_is_done(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, PEOPLE)

    answer = await _prompt(
        scenario, {"prompt_text": "Which?", "options": OPTIONS, "correct_option": " B "}
    )
    by_facilitator = await _session_round(scenario, "ana")
    by_owner = await _session_round(scenario, "zoe")
    by_timekeeper = await _session_round(scenario, "cy")
    await scenario.advance(1, "VOTING")
    for user, choice in VOTES.items():
        await scenario.submit(user, 1, VOTE, {"choice": choice})
    await _revote_and_finish(scenario, until="EXPLAINING")
    explaining = await _session_round(scenario, "dan")
    await _step(scenario, "DONE")
    done = await _session_round(scenario, "dan")

    assert answer.json()["correct_option"] == "B"
    assert (by_facilitator["correct_option"], by_owner["correct_option"]) == ("B", "B")
    assert by_timekeeper["correct_option"] is None
    assert explaining["correct_option"] is None
    assert done["correct_option"] == "B"


async def test_a_correct_option_that_is_not_an_option_is_refused_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await _prompt(scenario, {"prompt_text": "Q", "options": OPTIONS, "correct_option": "A"})
    before = await snapshot(scenario, "ana")

    bodies: list[dict[str, Any]] = [
        {"prompt_text": "Q", "options": OPTIONS, "correct_option": "D"},
        {"prompt_text": "Q", "options": OPTIONS, "correct_option": "a"},
        {"prompt_text": "Q", "correct_option": "A"},
        {"prompt_text": "Q", "options": OPTIONS, "correct_option": 1},
        {"prompt_text": "Q", "options": OPTIONS, "correct_option": ["A"]},
        {"prompt_text": "Q", "options": OPTIONS, "correct_option": "x" * 501},
    ]
    refused = [await _prompt(scenario, body, expect=None) for body in bodies]

    assert [r.status_code for r in refused] == [400] * 6
    assert all(r.json()["statusCode"] == 400 for r in refused)
    assert "correct_option" in refused[0].json()["message"]
    assert await snapshot(scenario, "ana") == before


async def test_setting_the_correct_option_is_refused_to_members_unknown_and_finished_sessions(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    body = {"prompt_text": "Q", "options": OPTIONS, "correct_option": "A"}

    by_member = await _prompt(scenario, body, user="bo", expect=None)
    unknown = await http.patch(
        "/group-sessions/no-such-session/rounds/1/prompt", json=body, headers=auth("ana")
    )
    await scenario.call(
        "PUT", f"/group-sessions/{scenario.session_id}/status", "ana", {"status": "FINISHED"}
    )
    finished = await _prompt(scenario, body, expect=None)

    assert (by_member.status_code, unknown.status_code, finished.status_code) == (403, 404, 409)
    assert (await _session_round(scenario, "ana"))["correct_option"] is None


async def test_null_clears_the_correct_option_and_leaving_it_out_keeps_it_while_still_an_option(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await _prompt(scenario, {"prompt_text": "Q", "options": OPTIONS, "correct_option": "C"})

    kept = await _prompt(scenario, {"prompt_text": "Q2", "options": ["C", "D"]})
    dropped = await _prompt(scenario, {"prompt_text": "Q3", "options": ["D", "E"]})
    await _prompt(scenario, {"prompt_text": "Q4", "options": OPTIONS, "correct_option": "A"})
    cleared = await _prompt(
        scenario, {"prompt_text": "Q5", "options": OPTIONS, "correct_option": None}
    )

    assert kept.json()["correct_option"] == "C"
    assert dropped.json()["correct_option"] is None
    assert cleared.json()["correct_option"] is None
    assert (await _session_round(scenario, "ana"))["correct_option"] is None


async def test_prompt_updated_never_carries_the_correct_option_and_the_advance_to_done_does(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _voted_session(http, correct="C")
    await _revote_and_finish(scenario)

    events = await feed_events(scenario, "dan")
    prompts = [e for e in events if e["event"] == "prompt.updated"]
    advanced = [e["data"] for e in events if e["event"] == "round.advanced"]

    assert len(prompts) == 1 and "correctOption" not in prompts[0]["data"]
    assert [a["status"] for a in advanced if "correctOption" in a] == ["DONE"]
    assert advanced[-1]["correctOption"] == "C"


async def test_the_advance_to_done_says_null_when_no_correct_option_was_set(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _voted_session(http, correct=None)
    await _revote_and_finish(scenario)

    [done] = [e for e in await feed_events(scenario) if e["data"].get("status") == "DONE"]

    assert done["data"]["correctOption"] is None


# --- round.results ---------------------------------------------------------------------------


async def test_round_results_directly_follow_the_advances_that_close_voting_and_revoting(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _voted_session(http)
    await _revote_and_finish(scenario)

    events = await feed_events(scenario)
    tallies = [(i, e) for i, e in enumerate(events) if e["event"] == "round.results"]

    assert len(tallies) == 2
    for (position, entry), (closing, phase, counts) in zip(
        tallies,
        [
            ("DISCUSSING", "VOTE", {"A": 2, "B": 2, "C": 1}),
            ("EXPLAINING", "REVOTE", {"A": 0, "B": 4, "C": 1}),
        ],
        strict=True,
    ):
        previous = events[position - 1]
        assert previous["event"] == "round.advanced"
        assert previous["data"]["status"] == closing
        assert entry["seq"] == previous["seq"] + 1
        assert entry["data"]["phase"] == phase
        assert entry["data"]["counts"] == counts
        assert entry["data"]["total"] == 5
        assert entry["data"]["roundIndex"] == 1
        assert entry["data"]["roundId"] == previous["data"]["roundId"]


async def test_a_forced_close_records_the_tally_of_those_who_voted(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await _prompt(scenario, {"prompt_text": "Q", "options": OPTIONS})
    await scenario.advance(1, "VOTING")
    await scenario.submit("bo", 1, VOTE, {"choice": "C"})

    await scenario.advance(1, "DISCUSSING", force=True)

    last = (await feed_events(scenario))[-1]
    assert (last["event"], last["data"]["counts"], last["data"]["total"]) == (
        "round.results",
        {"A": 0, "B": 0, "C": 1},
        1,
    )


# --- GET …/results ----------------------------------------------------------------------------


async def test_results_count_votes_revotes_switches_and_the_normalized_change(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _voted_session(http)
    await _revote_and_finish(scenario)

    found = await _results(scenario, "dan")

    assert found == {
        "round_index": 1,
        "status": "DONE",
        "options": OPTIONS,
        "eligible": 5,
        "vote": {"counts": {"A": 2, "B": 2, "C": 1}, "total": 5},
        "revote": {"counts": {"A": 0, "B": 4, "C": 1}, "total": 5},
        "switches": [
            {"from": "A", "to": "B", "count": 2},
            {"from": "B", "to": "B", "count": 2},
            {"from": "C", "to": "C", "count": 1},
        ],
        "correct_option": "B",
        "correct": {"vote_pct": 40.0, "revote_pct": 80.0, "normalized_change": 0.667},
    }


def _visible(found: dict[str, Any]) -> dict[str, bool]:
    parts = ["vote", "revote", "switches", "correct_option", "correct"]
    return {part: found[part] is not None for part in parts}


def _shown(*parts: str) -> dict[str, bool]:
    return {p: p in parts for p in ["vote", "revote", "switches", "correct_option", "correct"]}


async def test_members_and_the_timekeeper_see_each_part_once_its_phase_is_over(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _voted_session(http)
    seen: dict[str, list[dict[str, bool]]] = {"dan": [], "cy": []}

    async def look() -> None:
        for viewer, views in seen.items():
            views.append(_visible(await _results(scenario, viewer)))

    await look()  # VOTING
    for status in ["DISCUSSING", "REVOTING", "EXPLAINING", "DONE"]:
        await _step(scenario, status)
        await look()

    expected = [
        _shown(),
        _shown("vote"),
        _shown("vote"),
        _shown("vote", "revote", "switches"),
        _shown("vote", "revote", "switches", "correct_option", "correct"),
    ]
    assert seen["dan"] == expected
    assert seen["cy"] == expected


async def test_the_facilitator_a_group_owner_and_a_mod_outside_the_session_see_everything_live(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _voted_session(http)
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "zoe",
        {"user_id": "mo", "role": "MOD"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "mo", expect=200)

    views = [await _results(scenario, viewer) for viewer in ["ana", "zoe", "mo"]]

    for found in views:
        assert _visible(found) == _shown("vote", "revote", "switches", "correct_option", "correct")
        assert found["vote"] == {"counts": {"A": 2, "B": 2, "C": 1}, "total": 5}
        assert found["revote"] == {"counts": {"A": 0, "B": 0, "C": 0}, "total": 0}
        assert found["correct"] == {"vote_pct": 40.0, "revote_pct": None, "normalized_change": None}
        assert found["eligible"] == 5


async def test_results_are_refused_to_people_outside_the_session(http: httpx.AsyncClient) -> None:
    scenario = await _voted_session(http)
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "zoe",
        {"user_id": "late", "role": "MEMBER"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "late", expect=200)
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/dan", "zoe", expect=200)

    late = await scenario.call("GET", _results_path(scenario), "late")
    stranger = await scenario.call("GET", _results_path(scenario), "eve")
    removed = await scenario.call("GET", _results_path(scenario), "dan")
    anonymous = await http.get(_results_path(scenario))

    assert [r.status_code for r in (late, stranger, removed, anonymous)] == [403, 403, 403, 401]
    assert late.json()["statusCode"] == 403


async def test_results_of_an_unknown_session_or_round_are_not_found_and_a_bad_index_is_invalid(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)

    second = await scenario.call("GET", _results_path(scenario, 2), "bo")
    beyond = await scenario.call("GET", _results_path(scenario, 3), "bo")
    unknown = await http.get("/group-sessions/nope/rounds/1/results", headers=auth("ana"))
    invalid = [
        await scenario.call(
            "GET", f"/group-sessions/{scenario.session_id}/rounds/{i}/results", "bo"
        )
        for i in ["0", "-1", "x", "1.5", str(2**31)]
    ]

    assert second.status_code == 200
    assert second.json()["vote"] is None and second.json()["status"] == "CREATED"
    assert (beyond.status_code, unknown.status_code) == (404, 404)
    assert beyond.json()["message"] == "round not found"
    assert [r.status_code for r in invalid] == [400] * 5


async def test_results_count_only_members_who_may_still_vote(http: httpx.AsyncClient) -> None:
    scenario = await _voted_session(http)
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/dan", "zoe", expect=200)

    found = await _results(scenario, "ana")

    assert found["eligible"] == 4
    assert found["vote"] == {"counts": {"A": 2, "B": 1, "C": 1}, "total": 4}


@pytest.mark.parametrize("status", ["DISCUSSING", "EXPLAINING"])
async def test_a_round_without_options_tallies_the_choices_cast(
    http: httpx.AsyncClient, status: str
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await _prompt(scenario, {"prompt_text": "Name it"})
    await scenario.advance(1, "VOTING")
    for user, choice in [("ana", "x"), ("bo", "m"), ("cy", "x")]:
        await scenario.submit(user, 1, VOTE, {"choice": choice})
    await scenario.advance(1, "DISCUSSING")
    if status == "EXPLAINING":
        await scenario.advance(1, "REVOTING")
        await scenario.advance(1, "EXPLAINING", force=True)

    found = await _results(scenario, "cy")

    assert found["vote"] == {"counts": {"m": 1, "x": 2}, "total": 3}
    assert found["options"] is None
    if status == "EXPLAINING":
        assert found["revote"] == {"counts": {}, "total": 0}
        assert found["switches"] == []
