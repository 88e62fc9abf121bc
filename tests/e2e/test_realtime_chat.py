"""Typing indicators and read receipts: relayed to the others in the room, never to the sender."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.clients import TIMESTAMP, Peer, Peers, is_error
from tests.support import Scenario, make_session


async def _room(peers: Peers, rest: httpx.AsyncClient) -> tuple[Scenario, list[Peer], Peer]:
    """ana with two tabs and bo, all joined; returns (scenario, ana's tabs, bo)."""
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    ana_tabs = [await peers.joined("ana", scenario.session_id, label=f"ana-tab{n}") for n in (1, 2)]
    bo = await peers.joined("bo", scenario.session_id)
    return scenario, ana_tabs, bo


async def test_typing_is_relayed_to_the_others_and_not_to_any_of_the_typists_tabs(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, bo = await _room(peers, rest)

    ack = await ana_tabs[0].call("typing", {"sessionId": scenario.session_id, "isTyping": True})

    assert ack == {"success": True}
    [typing] = await bo.wait_for("chat.typing")
    assert set(typing) >= {"sessionId", "userId", "userName", "isTyping", "timestamp"}
    assert typing["sessionId"] == scenario.session_id
    assert typing["userId"] == "ana"
    assert typing["userName"] == "Ana"
    assert typing["isTyping"] is True
    assert TIMESTAMP.match(typing["timestamp"])
    assert "seq" not in typing
    for tab in ana_tabs:
        await tab.settle()
        assert tab.of("chat.typing") == [], f"{tab.label} heard its own typing"


async def test_a_second_typing_within_250_ms_is_rate_limited_and_not_relayed(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, bo = await _room(peers, rest)
    payload = {"sessionId": scenario.session_id, "isTyping": True}

    first = await ana_tabs[0].call("typing", payload)
    second = await ana_tabs[1].call("typing", {**payload, "isTyping": False})

    assert first["success"] is True
    assert is_error(second, "RATE_LIMITED"), second
    await bo.wait_for("chat.typing")
    await bo.settle()
    assert [t["isTyping"] for t in bo.of("chat.typing")] == [True]
    assert ana_tabs[1].connected


async def test_typing_is_relayed_again_once_250_ms_have_passed(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, bo = await _room(peers, rest)
    payload = {"sessionId": scenario.session_id, "isTyping": True}

    first = await ana_tabs[0].call("typing", payload)
    await asyncio.sleep(0.3)  # the limit's own interval, on the real clock (a slow run waits more)
    again = await ana_tabs[1].call("typing", {**payload, "isTyping": False})

    assert (first, again) == ({"success": True}, {"success": True})
    await bo.wait_for("chat.typing", 2)
    assert [t["isTyping"] for t in bo.of("chat.typing")] == [True, False]


async def test_typing_in_a_session_the_socket_has_not_joined_is_refused(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, _, bo = await _room(peers, rest)
    cy = await peers.connect("cy")

    ack = await cy.call("typing", {"sessionId": scenario.session_id, "isTyping": True})

    assert is_error(ack, "FORBIDDEN"), ack
    await bo.settle()
    assert bo.of("chat.typing") == []


async def test_typing_without_a_boolean_is_a_bad_request(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, bo = await _room(peers, rest)

    acks = [
        await ana_tabs[0].call("typing", payload)
        for payload in (
            {"sessionId": scenario.session_id},
            {"sessionId": scenario.session_id, "isTyping": "yes"},
            {"sessionId": scenario.session_id, "isTyping": 1},
            {"isTyping": True},
            "typing",
        )
    ]

    assert all(is_error(ack, "BAD_REQUEST") for ack in acks), acks
    await bo.settle()
    assert bo.of("chat.typing") == []


async def test_mark_read_tells_the_others_and_moves_the_cursor_shown_in_the_chat(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, bo = await _room(peers, rest)
    first = (await scenario.chat("ana", "first")).json()["id"]
    second = (await scenario.chat("cy", "second")).json()["id"]

    ack = await bo.call("markRead", {"sessionId": scenario.session_id, "messageId": second})

    assert ack["success"] is True
    for tab in ana_tabs:
        [read] = await tab.wait_for("chat.read")
        assert set(read) >= {"sessionId", "userId", "messageId", "timestamp"}
        assert read["sessionId"] == scenario.session_id
        assert read["userId"] == "bo"
        assert read["messageId"] == second
        assert TIMESTAMP.match(read["timestamp"])
    await bo.settle()
    assert bo.of("chat.read") == []
    chat = await scenario.call(
        "GET", f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat", "ana"
    )
    cursors = {c["user_id"]: c["message_id"] for c in chat.json()["read_cursors"]}
    assert cursors == {"bo": second}
    assert first != second


async def test_mark_read_of_an_unknown_message_is_not_found_and_relays_nothing(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, bo = await _room(peers, rest)

    unknown = await bo.call(
        "markRead", {"sessionId": scenario.session_id, "messageId": "no-such-message"}
    )
    malformed = await bo.call("markRead", {"sessionId": scenario.session_id, "messageId": 5})
    unstorable = [
        await bo.call("markRead", {"sessionId": scenario.session_id, "messageId": bad})
        for bad in ("m\x00", "m\ud800")
    ]

    assert is_error(unknown, "NOT_FOUND"), unknown
    assert is_error(malformed, "BAD_REQUEST"), malformed
    assert all(is_error(ack, "BAD_REQUEST") for ack in unstorable), unstorable
    await ana_tabs[0].settle()
    assert ana_tabs[0].of("chat.read") == []


async def test_mark_read_by_someone_outside_the_group_is_forbidden(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario, ana_tabs, _ = await _room(peers, rest)
    message = (await scenario.chat("ana", "private")).json()["id"]
    zed = await peers.connect("zed")

    ack = await zed.call("markRead", {"sessionId": scenario.session_id, "messageId": message})

    assert is_error(ack, "FORBIDDEN"), ack
    await ana_tabs[0].settle()
    assert ana_tabs[0].of("chat.read") == []
