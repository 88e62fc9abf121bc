"""joinSession: who may join, what the acknowledgement says, and what a refused join leaves."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from studygroups.ratelimit import LIMITS, Limit
from tests.conftest import auth
from tests.e2e.clients import TIMESTAMP, Peer, Peers, is_error
from tests.support import Scenario, make_session


async def _nothing_of_the_session_reaches(peer: Peer, scenario: Scenario) -> None:
    """A durable write happens in the session; the peer (after settling) has received nothing."""
    await scenario.chat(scenario.owner, "are you listening?")
    await peer.settle()
    assert peer.events == []
    assert peer.connected


async def test_a_member_joining_gets_the_session_seq_and_who_is_present(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    ana = await peers.connect("ana")

    first = await ana.join(scenario.session_id)
    bo = await peers.connect("bo")
    second = await bo.join(scenario.session_id)

    assert first == {
        "success": True,
        "sessionId": scenario.session_id,
        "seq": 1,
        "presence": [{"userId": "ana", "userName": "Ana"}],
    }
    assert second == {
        "success": True,
        "sessionId": scenario.session_id,
        "seq": 1,
        "presence": [{"userId": "ana", "userName": "Ana"}, {"userId": "bo", "userName": "Bo"}],
    }


async def test_the_join_seq_is_the_last_durable_event_of_the_session(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    await scenario.chat("ana", "one")
    await scenario.chat("bo", "two")

    ack = await (await peers.connect("bo")).join(scenario.session_id)

    session = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "bo")
    assert ack["seq"] == 3
    assert session.json()["seq"] == 3


async def test_a_session_that_has_not_started_can_be_joined_at_seq_zero(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"], start=False)

    ack = await (await peers.connect("bo")).join(scenario.session_id)

    assert ack["success"] is True
    assert ack["seq"] == 0


async def test_a_join_without_last_seq_replays_nothing(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])

    ack = await (await peers.connect("bo")).join(scenario.session_id)

    assert "missed" not in ack
    assert "resync" not in ack


async def test_someone_outside_the_group_is_forbidden_and_joins_nothing(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    zed = await peers.connect("zed")

    ack = await zed.join(scenario.session_id)

    assert is_error(ack, "FORBIDDEN"), ack
    await _nothing_of_the_session_reaches(zed, scenario)
    await ana.settle()
    assert ana.of("userJoined") == []


async def test_an_invited_user_who_has_not_accepted_is_forbidden(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    invite = await rest.post(
        f"/groups/{scenario.group_id}/members/invite",
        json={"user_id": "ivy", "role": "MEMBER"},
        headers=auth("ana"),
    )
    assert invite.status_code == 201, invite.text
    ivy = await peers.connect("ivy")

    ack = await ivy.join(scenario.session_id)

    assert is_error(ack, "FORBIDDEN"), ack
    await _nothing_of_the_session_reaches(ivy, scenario)


async def test_a_removed_member_is_forbidden(peers: Peers, rest: httpx.AsyncClient) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)
    cy = await peers.connect("cy")

    ack = await cy.join(scenario.session_id)

    assert is_error(ack, "FORBIDDEN"), ack
    await _nothing_of_the_session_reaches(cy, scenario)


async def test_an_unknown_session_is_not_found(peers: Peers, rest: httpx.AsyncClient) -> None:
    await make_session(rest, ["ana", "bo"])
    ana = await peers.connect("ana")

    ack = await ana.join("00000000-0000-0000-0000-000000000000")

    assert is_error(ack, "NOT_FOUND"), ack
    assert ana.connected


BAD_PAYLOADS: list[tuple[str, Any]] = [
    ("no payload", None),
    ("a string", "session-id"),
    ("a number", 42),
    ("a list", ["session-id"]),
    ("no sessionId", {}),
    ("a numeric sessionId", {"sessionId": 7}),
    ("a null sessionId", {"sessionId": None}),
    ("an object sessionId", {"sessionId": {"id": "x"}}),
    ("an empty sessionId", {"sessionId": ""}),
    ("a 65-character sessionId", {"sessionId": "s" * 65}),
    ("a sessionId with NUL", {"sessionId": "s\x00"}),
    ("a sessionId with an unpaired surrogate", {"sessionId": "s\ud800"}),
]

BAD_LAST_SEQ: list[tuple[str, Any]] = [
    ("a string lastSeq", "3"),
    ("a negative lastSeq", -1),
    ("a fractional lastSeq", 1.5),
    ("a boolean lastSeq", True),
    ("a list lastSeq", [1]),
    ("an object lastSeq", {"seq": 1}),
]


@pytest.mark.parametrize("payload", [pytest.param(p, id=name) for name, p in BAD_PAYLOADS])
async def test_a_malformed_join_is_a_bad_request_and_the_socket_stays_connected_outside(
    payload: Any, peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo")

    ack = await bo.call("joinSession", payload)

    assert is_error(ack, "BAD_REQUEST"), ack
    await _nothing_of_the_session_reaches(bo, scenario)


@pytest.mark.parametrize("last_seq", [pytest.param(v, id=name) for name, v in BAD_LAST_SEQ])
async def test_a_join_with_a_wrongly_typed_last_seq_is_a_bad_request_and_joins_nothing(
    last_seq: Any, peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo")

    ack = await bo.join(scenario.session_id, lastSeq=last_seq)

    assert is_error(ack, "BAD_REQUEST"), ack
    await _nothing_of_the_session_reaches(bo, scenario)


async def test_joining_twice_delivers_each_event_once_and_announces_the_user_once(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    bo = await peers.connect("bo")
    await bo.join_ok(scenario.session_id)

    again = await bo.join(scenario.session_id)
    await scenario.chat("ana", "hello once")
    await bo.wait_for("chat.message")
    await bo.settle()
    await ana.settle()

    assert again["success"] is True
    assert again["presence"] == [
        {"userId": "ana", "userName": "Ana"},
        {"userId": "bo", "userName": "Bo"},
    ]
    assert len(bo.of("chat.message")) == 1
    assert len(ana.of("userJoined")) == 1


async def test_a_flood_of_joins_is_eventually_rate_limited_without_disconnecting(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo")

    acks = [await bo.join(scenario.session_id) for _ in range(30)]

    assert acks[0]["success"] is True
    assert any(is_error(ack, "RATE_LIMITED") for ack in acks), acks
    await bo.settle()
    assert bo.connected


async def test_user_joined_tells_the_others_the_user_id_name_and_time(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)

    await peers.joined("bo", scenario.session_id)

    [joined] = await ana.wait_for("userJoined")
    assert set(joined) >= {"userId", "userName", "timestamp"}
    assert joined["userId"] == "bo"
    assert joined["userName"] == "Bo"
    assert TIMESTAMP.match(joined["timestamp"]), joined["timestamp"]


async def test_joins_with_ids_no_database_can_hold_fail_alone_not_the_joins_beside_them(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    """Joins of one loop turn share one membership read: a stranger's NUL or unpaired
    surrogate in it failed every member's join of that turn with INTERNAL."""
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    members = [await peers.connect(user) for user in ("bo", "cy")]
    eve = await peers.connect("eve")
    poison = [{"sessionId": "s\x00"}, {"sessionId": "s\ud800"}] * 4

    answers = await asyncio.gather(
        *(member.join(scenario.session_id) for member in members),
        *(eve.call("joinSession", payload) for payload in poison),
    )

    assert [answer["success"] for answer in answers[:2]] == [True, True], answers[:2]
    assert all(is_error(answer, "BAD_REQUEST") for answer in answers[2:]), answers[2:]


@pytest.fixture
def three_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's join budget of 3, refilled once in 1,000 s: what a test reads is the budget."""
    monkeypatch.setitem(LIMITS, "join_user", Limit(rate=0.001, burst=3.0))


@pytest.mark.usefixtures("three_joins")
async def test_a_users_join_budget_is_shared_by_their_sockets_and_not_refilled_by_reconnecting(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    first = await peers.connect("bo")
    spent = [await first.join(scenario.session_id) for _ in range(3)]
    await first.disconnect()
    second = await peers.connect("bo")
    other_tab = await peers.connect("bo")
    ana = await peers.connect("ana")

    after_reconnect = await second.join(scenario.session_id)
    from_another_tab = await other_tab.join(scenario.session_id)
    someone_else = await ana.join(scenario.session_id)

    assert all(ack["success"] for ack in spent), spent
    assert is_error(after_reconnect, "RATE_LIMITED"), after_reconnect
    assert is_error(from_another_tab, "RATE_LIMITED"), from_another_tab
    assert someone_else["success"], someone_else
