"""The session report over REST, as JSON and as the CSV an instructor exports to a gradebook."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.conftest import auth
from tests.service.observe import snapshot
from tests.support import Scenario, make_session

VOTE, REVOTE, EXPLAIN = "PI_VOTE_SUBMIT", "PI_REVOTE_SUBMIT", "GROUP_EXPLANATION_SUBMIT"
HEADER = (
    "session_id,round_index,user_id,user_name,session_role,vote,revote,vote_correct,"
    "revote_correct,chat_messages"
)
# zoe creates the group (OWNER); by sorted id: ana FACILITATOR, bo SCRIBE, cy TIMEKEEPER,
# zoe CLARIFIER.
PEOPLE = ["zoe", "ana", "bo", "cy"]


async def _two_rounds(http: httpx.AsyncClient) -> Scenario:
    """Round 1 (correct B) done: votes zoe A, ana B, bo A, cy -; revotes zoe B, ana B, bo B.
    Round 2 has a prompt without a correct option and nobody voted. Chat: bo twice in round 1,
    cy once in round 2."""
    scenario = await make_session(http, PEOPLE, rounds=2)
    sid = scenario.session_id
    await scenario.call(
        "PATCH",
        f"/group-sessions/{sid}/rounds/1/prompt",
        "ana",
        {"prompt_text": "Which?", "options": ["A", "B"], "correct_option": "B"},
        expect=200,
    )
    await scenario.call(
        "PATCH", f"/group-sessions/{sid}/rounds/2/prompt", "ana", {"prompt_text": "Why?"}
    )
    await scenario.advance(1, "VOTING")
    for user, choice in [("zoe", "A"), ("ana", "B"), ("bo", "A")]:
        await scenario.submit(user, 1, VOTE, {"choice": choice})
    await scenario.advance(1, "DISCUSSING", force=True)
    await scenario.chat("bo", "A, surely", round_index=1)
    await scenario.chat("bo", "or B?", round_index=1)
    await scenario.chat("cy", "next one", round_index=2)
    await scenario.advance(1, "REVOTING")
    for user in ["zoe", "ana", "bo"]:
        await scenario.submit(user, 1, REVOTE, {"choice": "B"})
    await scenario.advance(1, "EXPLAINING", force=True)
    await scenario.submit(
        "bo", 1, EXPLAIN, {"explanation": "B.", "group_choice": "B", "key_terms": ["k"]}
    )
    await scenario.advance(1, "DONE")
    return scenario


async def _report(scenario: Scenario, viewer: str) -> dict[str, Any]:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/report", viewer, expect=200
    )
    found: dict[str, Any] = response.json()
    return found


async def test_the_report_gives_every_rounds_results_and_explanation(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _two_rounds(http)

    report = await _report(scenario, "ana")

    assert report["session"]["id"] == scenario.session_id
    first, second = report["rounds"]
    assert {k: first[k] for k in ("round_index", "prompt_text", "options", "correct_option")} == {
        "round_index": 1,
        "prompt_text": "Which?",
        "options": ["A", "B"],
        "correct_option": "B",
    }
    assert first["results"]["vote"] == {"counts": {"A": 2, "B": 1}, "total": 3}
    assert first["results"]["correct"] == {
        "vote_pct": 33.3,
        "revote_pct": 100.0,
        "normalized_change": 1.0,
    }
    assert first["explanation"] == {"explanation": "B.", "group_choice": "B", "key_terms": ["k"]}
    assert first["chat_messages"] == 2
    assert (second["correct_option"], second["explanation"], second["chat_messages"]) == (
        None,
        None,
        1,
    )
    assert second["results"]["vote"] == {"counts": {}, "total": 0}


async def test_the_report_gives_every_members_answers_and_whether_they_were_correct(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _two_rounds(http)

    members = {m["user_id"]: m for m in (await _report(scenario, "zoe"))["members"]}

    assert sorted(members) == ["ana", "bo", "cy", "zoe"]
    assert (members["bo"]["session_role"], members["bo"]["user_name"]) == ("SCRIBE", "Bo")
    assert (members["bo"]["chat_messages"], members["cy"]["chat_messages"]) == (2, 1)
    assert members["zoe"]["rounds"][0] == {
        "round_index": 1,
        "vote": "A",
        "revote": "B",
        "vote_correct": False,
        "revote_correct": True,
        "chat_messages": 0,
    }
    assert members["cy"]["rounds"][0] == {
        "round_index": 1,
        "vote": None,
        "revote": None,
        "vote_correct": None,
        "revote_correct": None,
        "chat_messages": 0,
    }
    assert [r["round_index"] for r in members["ana"]["rounds"]] == [1, 2]
    assert members["ana"]["rounds"][1]["vote_correct"] is None  # round 2 has no correct option


async def test_the_report_is_for_facilitators_and_group_moderators_only(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, PEOPLE)
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "zoe",
        {"user_id": "mo", "role": "MOD"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "mo", expect=200)
    before = await snapshot(scenario)
    sid = scenario.session_id

    statuses = {
        (viewer, path): (await scenario.call("GET", f"/group-sessions/{sid}/{path}", viewer))
        for viewer in ["ana", "zoe", "mo", "bo", "cy", "eve"]
        for path in ["report", "report.csv"]
    }
    unknown = [
        await http.get(f"/group-sessions/nope/{path}", headers=auth("ana"))
        for path in ["report", "report.csv"]
    ]

    allowed = {viewer: statuses[(viewer, "report")].status_code for viewer in ["ana", "zoe", "mo"]}
    assert allowed == {"ana": 200, "zoe": 200, "mo": 200}
    for viewer in ["bo", "cy", "eve"]:
        for path in ["report", "report.csv"]:
            refused = statuses[(viewer, path)]
            assert refused.status_code == 403, (viewer, path)
            assert refused.json()["statusCode"] == 403
    assert statuses[("mo", "report.csv")].status_code == 200
    assert [r.status_code for r in unknown] == [404, 404]
    assert await snapshot(scenario) == before


async def _csv(scenario: Scenario, viewer: str = "ana") -> tuple[httpx.Response, list[list[str]]]:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/report.csv", viewer, expect=200
    )
    return response, list(csv.reader(io.StringIO(response.text)))


async def test_the_csv_has_the_header_and_one_row_per_member_per_round(
    http: httpx.AsyncClient,
) -> None:
    scenario = await _two_rounds(http)

    response, rows = await _csv(scenario)

    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == HEADER
    sid = scenario.session_id
    assert rows[1:] == [
        [sid, "1", "ana", "Ana", "FACILITATOR", "B", "B", "true", "true", "0"],
        [sid, "1", "bo", "Bo", "SCRIBE", "A", "B", "false", "true", "2"],
        [sid, "1", "cy", "Cy", "TIMEKEEPER", "", "", "", "", "0"],
        [sid, "1", "zoe", "Zoe", "CLARIFIER", "A", "B", "false", "true", "0"],
        [sid, "2", "ana", "Ana", "FACILITATOR", "", "", "", "", "0"],
        [sid, "2", "bo", "Bo", "SCRIBE", "", "", "", "", "0"],
        [sid, "2", "cy", "Cy", "TIMEKEEPER", "", "", "", "", "1"],
        [sid, "2", "zoe", "Zoe", "CLARIFIER", "", "", "", "", "0"],
    ]


async def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted_and_numbers_kept(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    await scenario.submit("ana", 1, VOTE, {"choice": '=HYPERLINK("http://x","y")'})
    await scenario.submit("bo", 1, VOTE, {"choice": "-1"})

    _, rows = await _csv(scenario)

    votes = {row[2]: row[5] for row in rows[1:]}
    assert votes == {"ana": '\'=HYPERLINK("http://x","y")', "bo": "-1"}


async def test_the_openapi_document_describes_the_results_the_report_and_the_csv(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]

    def ok(path: str) -> dict[str, Any]:
        content: dict[str, Any] = paths[path]["get"]["responses"]["200"]["content"]
        return content

    results = ok("/group-sessions/{session_id}/rounds/{round_index}/results")
    report = ok("/group-sessions/{session_id}/report")
    assert results["application/json"]["schema"] == {"$ref": "#/components/schemas/RoundResults"}
    assert report["application/json"]["schema"] == {"$ref": "#/components/schemas/Report"}
    assert "text/csv" in ok("/group-sessions/{session_id}/report.csv")
    assert {"vote", "revote", "switches", "correct_option", "correct", "eligible"} <= set(
        schemas["RoundResults"]["properties"]
    )
    assert set(schemas["Switch"]["properties"]) == {"from", "to", "count"}
    assert "correct_option" in schemas["UpdatePrompt"]["properties"]
