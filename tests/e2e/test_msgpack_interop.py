"""The msgpack endpoint (API.md §6) with the official socket.io-client 4.8 and
socket.io-msgpack-parser (pinned in tests/e2e/node): the same namespace, events, payloads, acks,
errors, presence, ordering and recovery as JSON, over WebSocket, long-polling and an upgrade;
JSON and msgpack clients of one session hear the same events with the same seq.

scripts/check runs these twice: WebSockets on the native path, then on python-engineio's
(UVICORN_WS=websockets-sansio).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, token
from tests.e2e.clients import WAIT, Peers
from tests.e2e.test_interop_node import NodeClient, node_binary, node_client
from tests.support import Scenario, make_session

pytestmark = pytest.mark.node


@pytest.fixture(autouse=True)
def _node_installed() -> None:
    node_binary()


async def _feed(scenario: Scenario) -> list[dict[str, Any]]:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/feed", scenario.owner, expect=200
    )
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def _report_when(client: NodeClient, check: Any) -> dict[str, Any]:
    """The client's first report that satisfies `check` (asked again until WAIT passes)."""
    async with asyncio.timeout(WAIT):
        while True:
            report = await client.report()
            if check(report):
                return report
            await asyncio.sleep(0.05)


def _heard(report: dict[str, Any]) -> list[tuple[int, str, Any]]:
    return [(a["seq"], a["event"], a["data"]) for a in report["applied"]]


@pytest.mark.parametrize(
    "transports",
    [
        pytest.param("websocket", id="websocket-only"),
        pytest.param("polling", id="polling-only"),
        pytest.param("polling,websocket", id="polling-then-upgrade"),
    ],
)
async def test_a_msgpack_client_joins_and_hears_a_whole_round_in_seq_order(
    transports: str, server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    async with node_client(
        server, user="bo", session_id=scenario.session_id, transports=transports, parser="msgpack"
    ) as bo:
        joined = await bo.wait_for("joined")
        await scenario.run_round(1)
        await scenario.chat("cy", "well done")
        feed = await _feed(scenario)
        await bo.applied_up_to(feed[-1]["seq"])
        expected = "polling" if transports == "polling" else "websocket"
        report = await _report_when(bo, lambda r: r["transport"] == expected)

    assert joined["ack"]["success"] is True
    assert joined["ack"]["sessionId"] == scenario.session_id
    assert report["binaryMessages"] > 0, "the server spoke msgpack (binary messages)"
    assert _heard(report) == [(e["seq"], e["event"], e["data"]) for e in feed if e["seq"] > 1]
    assert all(a["source"] == "live" and not a["duplicate"] for a in report["applied"])


async def test_json_and_msgpack_clients_of_one_session_hear_the_same_events_in_the_same_order(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy", "dee"])
    session = scenario.session_id
    async with (
        node_client(server, user="bo", session_id=session) as bo_json,
        node_client(server, user="cy", session_id=session, parser="msgpack") as cy_msgpack,
        node_client(
            server, user="dee", session_id=session, parser="msgpack", transports="polling"
        ) as dee_msgpack_polling,
    ):
        clients = (bo_json, cy_msgpack, dee_msgpack_polling)
        for client in clients:
            await client.wait_for("joined")
        await scenario.run_round(1)
        await asyncio.gather(*(scenario.chat("ana", f"message {n}") for n in range(5)))
        feed = await _feed(scenario)
        for client in clients:
            await client.applied_up_to(feed[-1]["seq"])
        reports = [await client.report() for client in clients]

    expected = [(e["seq"], e["event"], e["data"]) for e in feed if e["seq"] > 1]
    assert [_heard(report) for report in reports] == [expected, expected, expected]
    assert [report["binaryMessages"] > 0 for report in reports] == [False, True, True]


async def test_a_msgpack_client_recovers_exactly_what_it_missed_by_rejoining_with_last_seq(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    async with node_client(
        server, user="bo", session_id=scenario.session_id, parser="msgpack"
    ) as bo:
        await bo.wait_for("joined")
        await scenario.chat("ana", "before")
        await bo.applied_up_to(2)
        mark = len(bo.lines)
        await bo.send("disconnect")
        await bo.wait_for("disconnected", after=mark)
        await scenario.chat("ana", "while away 1")
        await scenario.advance(1, "VOTING")
        await scenario.chat("ana", "while away 2")
        mark = len(bo.lines)
        await bo.send("connect")
        rejoined = await bo.wait_for("joined", after=mark)
        await scenario.chat("ana", "after")
        await bo.applied_up_to(6)
        report = await bo.report()
    feed = await _feed(scenario)

    assert rejoined["request"] == {"sessionId": scenario.session_id, "lastSeq": 2}
    assert [item["seq"] for item in rejoined["ack"]["missed"]] == [3, 4, 5]
    assert [(a["seq"], a["source"]) for a in report["applied"]] == [
        (2, "live"),
        (3, "missed"),
        (4, "missed"),
        (5, "missed"),
        (6, "live"),
    ]
    assert _heard(report) == [(e["seq"], e["event"], e["data"]) for e in feed if e["seq"] > 1]


async def test_a_msgpack_client_sees_presence_types_and_gets_error_codes_in_its_acks(
    server: LiveServer, rest: httpx.AsyncClient, peers: Peers
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    async with node_client(
        server, user="bo", session_id=scenario.session_id, parser="msgpack"
    ) as bo:
        await bo.wait_for("joined")
        ana = await peers.joined("ana", scenario.session_id)
        await _report_when(bo, lambda r: [e["event"] for e in r["ephemeral"]] == ["userJoined"])
        answers = {}
        for name, event, data in [
            ("typing", "typing", {"sessionId": scenario.session_id, "isTyping": True}),
            ("bad id", "joinSession", {"sessionId": 42}),
            ("unknown", "noSuchEvent", {}),
            ("not a member", "joinSession", {"sessionId": "no-such-session"}),
        ]:
            mark = len(bo.lines)
            await bo.send("emit", event=event, data=data)
            answers[name] = (await bo.wait_for("ack", after=mark))["ack"]
        [seen] = await ana.wait_for("chat.typing")
        await ana.disconnect()
        report = await _report_when(bo, lambda r: len(r["ephemeral"]) == 2)

    assert answers["typing"] == {"success": True}
    assert seen["userId"] == "bo"
    assert answers["bad id"]["error"]["code"] == "BAD_REQUEST"
    assert answers["unknown"]["error"]["code"] == "BAD_REQUEST"
    assert answers["not a member"]["success"] is False
    assert answers["not a member"]["error"]["code"] in ("NOT_FOUND", "FORBIDDEN")
    assert [(e["event"], e["data"]["userId"]) for e in report["ephemeral"]] == [
        ("userJoined", "ana"),
        ("userLeft", "ana"),
    ]
    assert report["connected"] is True


async def test_a_msgpack_client_without_a_token_gets_a_connect_error_naming_it(
    server: LiveServer,
) -> None:
    async with node_client(server, user=None, parser="msgpack") as stranger:
        error = await stranger.wait_for("connect_error")
        report = await stranger.report()

    assert error["message"] == "No token provided"
    assert report["connected"] is False


async def test_a_msgpack_client_whose_token_expires_is_told_and_disconnected_by_the_server(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    short = token("bo", ttl=3)
    async with node_client(
        server, user="bo", jwt=short, session_id=scenario.session_id, parser="msgpack"
    ) as bo:
        await bo.wait_for("joined")
        gone = await bo.wait_for("disconnected")
        report = await bo.report()

    # "io server disconnect", not "parse error": the DISCONNECT packet is one the npm parser
    # accepts, so the client does not reconnect on its own with the expired token.
    assert gone["reason"] == "io server disconnect"
    assert report["connected"] is False
