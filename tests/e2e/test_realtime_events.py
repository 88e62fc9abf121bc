"""Durable events: every REST trigger's event reaches every joined socket with the contract's
fields, a seq and a timestamp; other sessions hear nothing; removed members stop hearing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.e2e.clients import TIMESTAMP, Peer, Peers, is_error
from tests.support import Scenario, make_session

SECRET_CHOICE = "Respiration"


def _check_envelope(payload: dict[str, Any]) -> None:
    assert isinstance(payload["seq"], int), payload
    assert TIMESTAMP.match(payload["timestamp"]), payload


def _fields(payload: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every contract field is there with its value (extra fields are allowed)."""
    _check_envelope(payload)
    missing = set(expected) - set(payload)
    assert not missing, f"missing {missing} in {payload}"
    assert {key: payload[key] for key in expected} == expected


async def _whole_session(scenario: Scenario) -> dict[str, Any]:
    """Drive one round and the session's end over REST; return ids the events should name."""
    sid = scenario.session_id
    facilitator = scenario.facilitator
    await scenario.start()
    await scenario.call(
        "PATCH",
        f"/group-sessions/{sid}/rounds/1/prompt",
        facilitator,
        {"prompt_text": "What powers the cell?", "options": ["Photosynthesis", SECRET_CHOICE]},
        expect=200,
    )
    await scenario.advance(1, "VOTING")
    for user in scenario.members:
        await scenario.submit(user, 1, "PI_VOTE_SUBMIT", {"choice": SECRET_CHOICE})
    await scenario.advance(1, "DISCUSSING")
    posted = await scenario.chat("bo", "I think it is <b>respiration</b>")
    await scenario.advance(1, "REVOTING")
    for user in scenario.members:
        await scenario.submit(user, 1, "PI_REVOTE_SUBMIT", {"choice": SECRET_CHOICE})
    await scenario.advance(1, "EXPLAINING")
    await scenario.submit(
        scenario.scribe, 1, "GROUP_EXPLANATION_SUBMIT", {"explanation": "Mitochondria."}
    )
    await scenario.advance(1, "DONE")
    await scenario.call(
        "PUT", f"/group-sessions/{sid}/status", facilitator, {"status": "FINISHED"}, expect=200
    )
    session = await scenario.call("GET", f"/group-sessions/{sid}", facilitator, expect=200)
    return {"round_id": session.json()["rounds"][0]["id"], "message_id": posted.json()["id"]}


EXPECTED_NAMES = [
    "session.started",
    "prompt.updated",
    "round.advanced",
    "vote.submitted",
    "vote.submitted",
    "vote.submitted",
    "round.advanced",
    "round.results",
    "chat.message",
    "round.advanced",
    "revote.submitted",
    "revote.submitted",
    "revote.submitted",
    "round.advanced",
    "round.results",
    "sharedCard.created",
    "round.advanced",
    "session.ended",
]


async def test_every_rest_trigger_reaches_every_joined_socket_with_the_contract_fields(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, ["ana", "bo", "cy"], start=False)
    sid = scenario.session_id
    sockets = [
        await live_peers.joined(user, sid, label=label)
        for user, label in [("ana", "ana"), ("bo", "bo"), ("cy", "cy"), ("bo", "bo-tab2")]
    ]

    ids = await _whole_session(scenario)
    for peer in sockets:
        await peer.wait_for("session.ended")
        await peer.settle()

    received = [peer.durable() for peer in sockets]
    names = [name for name, _ in received[0]]
    payloads = [data for _, data in received[0]]
    assert names == EXPECTED_NAMES
    assert all(other == received[0] for other in received[1:]), "sockets heard different things"
    assert [p["seq"] for p in payloads] == list(range(1, len(EXPECTED_NAMES) + 1))

    round_fields = {"sessionId": sid, "roundId": ids["round_id"], "roundIndex": 1}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for name, data in received[0]:
        by_name.setdefault(name, []).append(data)
    [started] = by_name["session.started"]
    _fields(started, {"sessionId": sid, "status": "RUNNING", "startedBy": scenario.facilitator})
    [prompt] = by_name["prompt.updated"]
    _fields(prompt, {**round_fields, "prompt": "What powers the cell?"})
    statuses = ["VOTING", "DISCUSSING", "REVOTING", "EXPLAINING", "DONE"]
    for advanced, status in zip(by_name["round.advanced"], statuses, strict=True):
        _fields(advanced, {**round_fields, "status": status})
    for kind, event_type in [
        ("vote.submitted", "PI_VOTE_SUBMIT"),
        ("revote.submitted", "PI_REVOTE_SUBMIT"),
    ]:
        ballots = by_name[kind]
        assert sorted(b["userId"] for b in ballots) == ["ana", "bo", "cy"]
        for ballot in ballots:
            _fields(ballot, {**round_fields, "userId": ballot["userId"], "eventType": event_type})
            assert "choice" not in ballot
            assert SECRET_CHOICE not in json.dumps(ballot), "a ballot event leaked the choice"
    [card] = by_name["sharedCard.created"]
    _fields(card, round_fields)
    [message] = by_name["chat.message"]
    _fields(
        message,
        {
            "id": ids["message_id"],
            "sessionId": sid,
            "roundIndex": 1,
            "message": "I think it is respiration",
            "userId": "bo",
            "userName": "Bo",
        },
    )
    [ended] = by_name["session.ended"]
    _fields(ended, {"sessionId": sid, "status": "FINISHED"})


async def test_the_live_payloads_are_the_ones_the_feed_stores(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"], start=False)
    bo = await peers.joined("bo", scenario.session_id)

    await _whole_session(scenario)
    await bo.wait_for("session.ended")

    feed = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/feed", "bo", expect=200
    )
    stored = [(e["event"], e["data"]) for e in feed.json()["events"]]
    assert bo.durable() == stored


async def test_a_member_of_another_session_hears_nothing_of_this_one(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    here = await make_session(rest, ["ana", "bo"], start=False)
    elsewhere = await make_session(rest, ["dee", "eve"])
    dee = await peers.joined("dee", elsewhere.session_id)
    bo_unjoined = await peers.connect("bo", label="bo-not-joined")
    ana = await peers.joined("ana", here.session_id)

    await _whole_session(here)
    await elsewhere.chat("eve", "only for us")
    await ana.wait_for("session.ended")
    await dee.wait_for("chat.message")
    await dee.settle()
    await bo_unjoined.settle()

    assert [name for name, _ in dee.events] == ["chat.message"]
    assert dee.of("chat.message")[0]["sessionId"] == elsewhere.session_id
    assert bo_unjoined.events == []


async def _removed_stops_hearing(peers: Peers, scenario: Scenario) -> tuple[Peer, list[Peer]]:
    sid = scenario.session_id
    ana = await peers.joined("ana", sid)
    cy_tabs = [await peers.joined("cy", sid, label=f"cy-tab{n}") for n in (1, 2)]

    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)
    await scenario.chat("ana", "cy cannot read this")
    return ana, cy_tabs


async def test_a_removed_member_stops_receiving_the_session_at_once_and_others_see_them_leave(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, ["ana", "bo", "cy"])
    ana, cy_tabs = await _removed_stops_hearing(live_peers, scenario)

    await ana.wait_for("chat.message")
    for tab in cy_tabs:
        await tab.settle()
        assert tab.of("chat.message") == [], f"{tab.label} still hears the session"
        assert tab.connected
    await ana.settle()
    assert [left["userId"] for left in ana.of("userLeft")] == ["cy"]


async def test_a_removed_member_cannot_join_again(peers: Peers, rest: httpx.AsyncClient) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    _, cy_tabs = await _removed_stops_hearing(peers, scenario)

    ack = await cy_tabs[0].join(scenario.session_id)

    assert is_error(ack, "FORBIDDEN"), ack


async def test_a_member_who_leaves_the_group_themself_stops_receiving(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    bo = await peers.joined("bo", scenario.session_id)

    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/bo", "bo", expect=200)
    await scenario.chat("ana", "bo has gone")
    await bo.settle()

    assert bo.durable() == []


async def test_a_join_racing_the_members_removal_never_leaves_them_in_the_room(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    """The join starts at staggered moments around the DELETE; whichever wins, a removed member
    hears nothing afterwards (a join checked before the removal is undone by it)."""
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    cy = await peers.connect("cy")
    leaked: list[int] = []

    for trial in range(30):

        async def join_soon(delay: float) -> dict[str, Any]:
            await asyncio.sleep(delay)
            return await cy.join(scenario.session_id)

        removal = scenario.call(
            "DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200
        )
        await asyncio.gather(join_soon(trial * 0.0004), removal)
        await scenario.chat("ana", f"after removal {trial}")
        await cy.settle()
        if cy.of("chat.message"):
            leaked.append(trial)
        await cy.call("leaveSession", {"sessionId": scenario.session_id})
        cy.forget()
        await _readmit(scenario, "cy")

    assert leaked == [], f"the removed member still heard the session in trials {leaked}"


async def _readmit(scenario: Scenario, user: str) -> None:
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        scenario.owner,
        {"user_id": user, "role": "MEMBER"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", user, expect=200)


async def test_moving_the_session_to_post_is_a_durable_event_so_seq_has_no_gap(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.joined("bo", scenario.session_id)
    path = f"/group-sessions/{scenario.session_id}/status"

    await scenario.call("PUT", path, scenario.facilitator, {"status": "POST"}, expect=200)
    await scenario.call("PUT", path, scenario.facilitator, {"status": "FINISHED"}, expect=200)
    await bo.wait_for("session.ended")

    [changed] = bo.of("session.statusChanged")
    _fields(changed, {"sessionId": scenario.session_id, "status": "POST"})
    assert bo.seqs() == [2, 3]
