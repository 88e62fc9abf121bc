"""A whole session over REST, on both databases: the happy path end to end."""

from __future__ import annotations

import httpx

from tests.support import make_session


async def test_a_round_goes_through_every_status_and_the_feed_numbers_each_event(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])

    await scenario.run_round(1)

    feed = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/feed", "bo", expect=200
    )
    events = feed.json()["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["event"] for e in events][:2] == ["session.started", "round.advanced"]
    assert events[-1]["data"]["status"] == "DONE"


async def test_the_openapi_document_has_unique_operation_ids(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()

    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]

    assert len(ids) == len(set(ids))
    assert "/group-sessions/{session_id}/feed" in document["paths"]


async def test_a_change_answers_with_the_seq_its_own_event_got(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)

    started = await scenario.call(
        "PUT", f"/group-sessions/{scenario.session_id}/start", scenario.facilitator, expect=200
    )
    finished = await scenario.call(
        "PUT",
        f"/group-sessions/{scenario.session_id}/status",
        scenario.facilitator,
        {"status": "FINISHED"},
        expect=200,
    )

    assert started.json()["seq"] == 1
    assert finished.json()["seq"] == 2
