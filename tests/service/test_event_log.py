"""The durable event log as read over REST: one event per trigger, its fields, and paging."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from studygroups.app import Service
from studygroups.domain.errors import Forbidden, NotFound
from studygroups.identity import Identity
from tests.service.observe import ISO_UTC_MILLIS, feed_events, round_of
from tests.support import Scenario, make_session

CAMEL_CASE = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")

# The fields API.md names for each durable event (besides seq and timestamp).
FIELDS = {
    "session.started": {"sessionId", "status", "startedBy"},
    "session.ended": {"sessionId", "status"},
    "round.advanced": {"sessionId", "roundId", "roundIndex", "status"},
    "prompt.updated": {"sessionId", "roundId", "roundIndex", "prompt"},
    "vote.submitted": {"sessionId", "roundId", "roundIndex", "userId", "eventType"},
    "revote.submitted": {"sessionId", "roundId", "roundIndex", "userId", "eventType"},
    "sharedCard.created": {"sessionId", "roundId", "roundIndex"},
    "chat.message": {"id", "sessionId", "roundIndex", "message", "userId", "userName"},
}

SECRET_CHOICE = "Mitochondria-42"

Trigger = Callable[[], Awaitable[httpx.Response]]


async def _feed(scenario: Scenario, viewer: str, **params: Any) -> httpx.Response:
    return await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/feed", viewer, params=params
    )


def _check_envelope(entry: dict[str, Any]) -> None:
    data = entry["data"]
    assert set(entry) == {"seq", "event", "data", "created_at"}
    assert data["seq"] == entry["seq"]
    assert ISO_UTC_MILLIS.match(data["timestamp"]), data["timestamp"]
    assert entry["created_at"] == data["timestamp"]
    assert FIELDS[entry["event"]] <= set(data), (entry["event"], sorted(data))
    assert all(CAMEL_CASE.match(key) for key in data), sorted(data)


CLOSING_STATUSES = ("DISCUSSING", "EXPLAINING")


async def test_every_rest_trigger_records_its_event_with_the_contracts_fields(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"], start=False)
    sid = scenario.session_id
    round_id = scenario.session["rounds"][0]["id"] if scenario.session else ""
    base = f"/group-sessions/{sid}"
    chat_path = f"/groups/{scenario.group_id}/sessions/{sid}/chat"
    common = {"sessionId": sid}
    in_round = {**common, "roundId": round_id, "roundIndex": 1}

    def call(method: str, path: str, user: str, body: Any = None) -> Trigger:
        return lambda: scenario.call(method, path, user, body)

    def advance(status: str) -> Trigger:
        body = {"to_status": status, "force": True}  # the gates are tested elsewhere
        return call("POST", f"{base}/rounds/1/advance", "ana", body)

    def submit(user: str, event_type: str, payload: dict[str, Any]) -> Trigger:
        body = {"round_index": 1, "event_type": event_type, "payload": payload}
        return call("POST", f"{base}/events", user, body)

    vote = {"choice": SECRET_CHOICE}
    steps: list[tuple[Trigger, str, dict[str, Any]]] = [
        (call("PUT", f"{base}/start", "ana"), "session.started",
         {**common, "status": "RUNNING", "startedBy": "ana"}),
        (call("PATCH", f"{base}/rounds/1/prompt", "ana",
              {"prompt_text": "Which organelle?", "options": [SECRET_CHOICE, "Nucleus"]}),
         "prompt.updated", {**in_round, "prompt": "Which organelle?"}),
        (call("PUT", f"{base}/rounds/1/prompt", "ana",
              {"prompt_text": "Which one?", "options": [SECRET_CHOICE, "Nucleus"]}),
         "prompt.updated", {**in_round, "prompt": "Which one?"}),
        (advance("VOTING"), "round.advanced", {**in_round, "status": "VOTING"}),
        (submit("bo", "PI_VOTE_SUBMIT", vote), "vote.submitted",
         {**in_round, "userId": "bo", "eventType": "PI_VOTE_SUBMIT"}),
        (advance("DISCUSSING"), "round.advanced", {**in_round, "status": "DISCUSSING"}),
        (advance("REVOTING"), "round.advanced", {**in_round, "status": "REVOTING"}),
        (submit("cy", "PI_REVOTE_SUBMIT", vote), "revote.submitted",
         {**in_round, "userId": "cy", "eventType": "PI_REVOTE_SUBMIT"}),
        (advance("EXPLAINING"), "round.advanced", {**in_round, "status": "EXPLAINING"}),
        (submit("bo", "GROUP_EXPLANATION_SUBMIT", {"explanation": "It makes energy."}),
         "sharedCard.created", in_round),
        (advance("DONE"), "round.advanced", {**in_round, "status": "DONE"}),
        (call("POST", chat_path, "cy", {"round_index": 1, "message": " <b>gg</b> "}),
         "chat.message", {**common, "roundIndex": 1, "message": "gg", "userId": "cy",
                          "userName": "Cy"}),
        (call("PUT", f"{base}/status", "ana", {"status": "FINISHED"}), "session.ended",
         {**common, "status": "FINISHED"}),
    ]  # fmt: skip
    for trigger, name, expected in steps:
        before = len(await feed_events(scenario))

        response = await trigger()

        assert response.status_code in (200, 201), (name, response.text)
        new = (await _feed(scenario, "cy", after_seq=before)).json()["events"]
        # Closing VOTING or REVOTING also records that phase's round.results, right after.
        closes_a_vote = name == "round.advanced" and expected["status"] in CLOSING_STATUSES
        assert [e["event"] for e in new] == [name] + ["round.results"] * closes_a_vote, name
        entry = new[0]
        assert entry["seq"] == before + 1
        _check_envelope(entry)
        assert {k: entry["data"][k] for k in expected} == expected, name
        if name == "chat.message":
            assert entry["data"]["id"] == response.json()["id"]


async def test_vote_events_never_carry_the_choice(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.advance(1, "VOTING")
    for user in scenario.members:
        await scenario.submit(user, 1, "PI_VOTE_SUBMIT", {"choice": SECRET_CHOICE})
    await scenario.advance(1, "DISCUSSING")
    await scenario.advance(1, "REVOTING")
    await scenario.submit("bo", 1, "PI_REVOTE_SUBMIT", {"choice": SECRET_CHOICE + "!"})

    ballots = [
        e
        for e in await feed_events(scenario)
        if e["event"] in ("vote.submitted", "revote.submitted")
    ]

    assert len(ballots) == 4
    for entry in ballots:
        assert "choice" not in entry["data"]
        assert SECRET_CHOICE not in json.dumps(entry)


async def test_the_sessions_seq_is_the_last_event_and_events_are_numbered_without_gaps(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)
    await scenario.run_round(1)
    await scenario.advance(2, "VOTING", force=True)
    await scenario.advance(2, "CREATED", expect=409)

    events = await feed_events(scenario)
    session = (await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "bo")).json()

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert session["seq"] == events[-1]["seq"]
    assert round_of(session, 2)["status"] == "VOTING"
    timestamps = [e["data"]["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)


async def test_the_feed_pages_through_the_log_after_a_seq(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    for number in range(6):
        await scenario.chat("bo", f"message {number}")

    pages = []
    after = 0
    while True:
        page = (await _feed(scenario, "bo", after_seq=after, limit=3)).json()
        pages.append(([e["seq"] for e in page["events"]], page["has_more"]))
        if not page["has_more"]:
            break
        after = page["events"][-1]["seq"]

    assert pages == [([1, 2, 3], True), ([4, 5, 6], True), ([7], False)]
    exact = (await _feed(scenario, "bo", after_seq=4, limit=3)).json()
    assert ([e["seq"] for e in exact["events"]], exact["has_more"]) == ([5, 6, 7], False)
    beyond = (await _feed(scenario, "bo", after_seq=7)).json()
    assert (beyond["events"], beyond["has_more"], beyond["seq"]) == ([], False, 7)
    everything = (await _feed(scenario, "bo", limit=1000)).json()
    assert len(everything["events"]) == 7


async def test_the_feed_limit_is_at_most_one_thousand(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    too_many = await _feed(scenario, "bo", limit=1001)
    most = await _feed(scenario, "bo", limit=1000)

    assert too_many.status_code == 400
    assert too_many.json()["statusCode"] == 400
    assert most.status_code == 200


async def test_only_active_members_read_the_feed(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "ana",
        {"user_id": "dee", "role": "MEMBER"},
        expect=201,
    )
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)

    for user in ["zed", "dee", "cy"]:
        response = await _feed(scenario, user)
        assert response.status_code == 403, user
        assert response.json()["statusCode"] == 403
    assert (await _feed(scenario, "bo")).status_code == 200


async def test_a_joins_reads_answer_the_events_and_head_the_feed_answers(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    for number, text in enumerate(["plain", "ünïcödé ✓", 'quotes " and \\ back', "x" * 500]):
        await scenario.chat(["bo", "cy"][number % 2], text)
    feed = service.gateway._rooms._feed  # the reader the live sockets' joins use
    page = (await _feed(scenario, "bo", limit=1000)).json()
    bo = Identity("bo", "bo@example.org", "Bo")

    head = await feed.authorize_join(bo, scenario.session_id)
    replay = await feed.replay(scenario.session_id, 0, head, max_events=500, max_bytes=1 << 20)
    gap = await feed.between(scenario.session_id, 2, head)

    assert head == page["seq"]
    assert [e.as_json() for e in replay.events] == page["events"]
    assert [e.as_json() for e in gap] == page["events"][2:]
    with pytest.raises(Forbidden):
        await feed.authorize_join(Identity("zed", "zed@example.org", "Zed"), scenario.session_id)
    with pytest.raises(NotFound):
        await feed.authorize_join(bo, "no-such-session")


async def test_joins_asking_together_share_one_read_and_each_gets_its_own_answer(
    service: Service, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await make_session(http, ["ana", "bo", "cy"])
    second = await make_session(http, ["dee", "eve"])
    await first.chat("bo", "one event in the first session")
    feed = service.gateway._rooms._feed  # the reader the live sockets' joins use
    units = feed._units
    readings = 0
    reading = units.reading

    def counted() -> Any:
        nonlocal readings
        readings += 1
        return reading()

    monkeypatch.setattr(units, "reading", counted)
    bo, eve = Identity("bo", "bo@example.org", "Bo"), Identity("eve", "eve@example.org", "Eve")
    zed = Identity("zed", "zed@example.org", "Zed")

    answers = await asyncio.gather(
        feed.authorize_join(bo, first.session_id),
        feed.authorize_join(eve, second.session_id),
        feed.authorize_join(bo, first.session_id),  # the same socket's join asked twice
        feed.authorize_join(zed, first.session_id),
        feed.authorize_join(eve, first.session_id),  # a member of another group
        feed.authorize_join(bo, "no-such-session"),
        return_exceptions=True,
    )

    head_first = (await _feed(first, "bo")).json()["seq"]
    head_second = (await _feed(second, "eve")).json()["seq"]
    assert list(answers[:3]) == [head_first, head_second, head_first]
    assert head_first != head_second
    assert [type(a) for a in answers[3:]] == [Forbidden, Forbidden, NotFound]
    assert readings == 1
