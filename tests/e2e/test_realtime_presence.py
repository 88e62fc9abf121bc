"""Presence over several tabs: a user joins with their first socket and leaves with their last."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.clients import NAMESPACE, TIMESTAMP, Peers
from tests.support import make_session


async def test_a_second_tab_of_a_present_user_is_not_announced_again(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    bo_tab1 = await peers.joined("bo", scenario.session_id, label="bo-tab1")
    await ana.wait_for("userJoined")

    bo_tab2 = await peers.connect("bo", label="bo-tab2")
    ack = await bo_tab2.join_ok(scenario.session_id)
    await ana.settle()
    await bo_tab1.settle()

    assert [j["userId"] for j in ana.of("userJoined")] == ["bo"]
    assert bo_tab1.of("userJoined") == []
    assert ack["presence"] == [
        {"userId": "ana", "userName": "Ana"},
        {"userId": "bo", "userName": "Bo"},
    ]


async def test_a_user_is_announced_as_left_only_when_their_last_tab_leaves(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    bo_tab1 = await peers.joined("bo", scenario.session_id, label="bo-tab1")
    bo_tab2 = await peers.joined("bo", scenario.session_id, label="bo-tab2")

    first = await bo_tab1.call("leaveSession", {"sessionId": scenario.session_id})
    await ana.settle()
    left_after_first = list(ana.of("userLeft"))
    second = await bo_tab2.call("leaveSession", {"sessionId": scenario.session_id})
    [left] = await ana.wait_for("userLeft")

    assert first["success"] is True
    assert second["success"] is True
    assert left_after_first == []
    assert left["userId"] == "bo"
    assert left["userName"] == "Bo"
    assert TIMESTAMP.match(left["timestamp"]), left
    await ana.settle()
    assert len(ana.of("userLeft")) == 1


async def test_disconnecting_the_last_tab_counts_as_leaving(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    bo_tab1 = await peers.joined("bo", scenario.session_id, label="bo-tab1")
    bo_tab2 = await peers.joined("bo", scenario.session_id, label="bo-tab2")

    await bo_tab1.disconnect()
    await ana.settle()
    left_after_first = list(ana.of("userLeft"))
    await bo_tab2.disconnect()
    [left] = await ana.wait_for("userLeft")

    assert left_after_first == []
    assert left["userId"] == "bo"
    later = await (await peers.connect("ana", label="ana-tab2")).join_ok(scenario.session_id)
    assert later["presence"] == [{"userId": "ana", "userName": "Ana"}]


async def test_presence_lists_each_present_user_once_and_drops_those_who_left(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    await peers.joined("ana", scenario.session_id)
    await peers.joined("bo", scenario.session_id, label="bo-tab1")
    await peers.joined("bo", scenario.session_id, label="bo-tab2")
    cy = await peers.joined("cy", scenario.session_id)
    await cy.call("leaveSession", {"sessionId": scenario.session_id})

    ack = await cy.join_ok(scenario.session_id)
    await cy.call("leaveSession", {"sessionId": scenario.session_id})
    ana_tab2 = await (await peers.connect("ana", label="ana-tab2")).join_ok(scenario.session_id)

    assert ack["presence"] == [
        {"userId": "ana", "userName": "Ana"},
        {"userId": "bo", "userName": "Bo"},
        {"userId": "cy", "userName": "Cy"},
    ]
    assert ana_tab2["presence"] == [
        {"userId": "ana", "userName": "Ana"},
        {"userId": "bo", "userName": "Bo"},
    ]


async def test_leaving_a_session_stops_its_events_reaching_that_socket(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.joined("bo", scenario.session_id)

    await bo.call("leaveSession", {"sessionId": scenario.session_id})
    await scenario.chat("ana", "anyone?")
    await bo.settle()

    assert bo.events == []


async def test_a_tab_that_disconnects_while_its_join_is_answered_is_not_left_present(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    """bo's tab asks to join with a long replay and drops at staggered moments; whenever it drops,
    bo ends up absent, and if ana was told bo joined she is told bo left."""
    scenario = await make_session(rest, ["ana", "bo"])
    await asyncio.gather(*(scenario.chat("ana", f"history {n}") for n in range(40)))
    ana = await peers.joined("ana", scenario.session_id)

    for trial in range(20):
        bo = await peers.connect("bo", label=f"bo-{trial}")
        await bo.sio.emit(
            "joinSession", {"sessionId": scenario.session_id, "lastSeq": 0}, namespace=NAMESPACE
        )
        await asyncio.sleep(trial * 0.0007)
        await bo.disconnect()

    probe = await (await peers.connect("ana", label="ana-probe")).join_ok(scenario.session_id)
    await ana.settle()
    assert probe["presence"] == [{"userId": "ana", "userName": "Ana"}]
    assert len(ana.of("userJoined")) == len(ana.of("userLeft"))
