"""Frames an attacker sends, on every path a frame can take: the native WebSocket (engine.py),
python-engineio's WebSocket (UVICORN_WS=websockets-sansio) and long-polling.

Only the contract's client events reach a handler; `connect`/`disconnect` sent as events change
nothing; binary events are refused and their attachments never kept; malformed frames are
counted and logged once per connection, never as a traceback; a flooding socket is refused,
then disconnected, while others go on. See docs/security.md, "Socket.IO frames".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings, token
from tests.e2e.clients import NEVER_JOINED, is_error
from tests.e2e.harness import PATHS, LiveHarness, harness_on
from tests.e2e.raw import NS, Closed, PollingClient, RawClient, open_raw
from tests.support import make_session

Harness = LiveHarness[RawClient]


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings for the server; a test parametrizes this to set its own limits."""
    return {}


@pytest.fixture(params=PATHS)
async def harness(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_url: str,
    tmp_path: Path,
    overrides: dict[str, Any],
) -> AsyncIterator[Harness]:
    settings = make_settings(sqlite_url, tmp_path, **overrides)
    async with harness_on(request.param, settings, open_raw, monkeypatch) as harness:
        yield harness


# -- events named connect and disconnect -------------------------------------------------------


async def test_a_removed_member_stops_receiving_chat_after_emitting_connect(
    harness: Harness,
) -> None:
    scenario = await make_session(harness.rest, ["ana", "bo", "cy"])
    bo = await harness.peers.joined("bo", scenario.session_id)
    cy = await harness.raw("cy")
    assert (await cy.call("joinSession", {"sessionId": scenario.session_id}))["success"]

    ack_id = cy.new_id()
    await cy.send(f'2{NS},{ack_id}["connect",{{}},{{"token":"{token("cy")}"}}]')
    ack = await cy.ack(ack_id)
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)
    await scenario.chat("ana", "cy is no longer in the group")

    assert is_error(ack, "BAD_REQUEST")
    await bo.wait_for("chat.message")
    assert (await cy.call("leaveSession", {"sessionId": NEVER_JOINED}))["success"]
    assert "chat.message" not in cy.names()


async def test_an_event_named_disconnect_changes_nothing_and_the_real_disconnect_still_counts(
    harness: Harness,
) -> None:
    scenario = await make_session(harness.rest, ["ana", "cy"])
    ana = await harness.peers.joined("ana", scenario.session_id)
    cy = await harness.raw("cy")
    assert (await cy.call("joinSession", {"sessionId": scenario.session_id}))["success"]
    await ana.wait_for("userJoined")

    refused = await cy.call("disconnect", "client namespace disconnect")
    typing = await cy.call("typing", {"sessionId": scenario.session_id, "isTyping": True})

    assert is_error(refused, "BAD_REQUEST")
    assert typing == {"success": True}
    await ana.wait_for("chat.typing")
    assert ana.of("userLeft") == []
    await cy.close()
    [left] = await ana.wait_for("userLeft")
    assert left["userId"] == "cy"
    assert await harness.metric("studygroups_socket_connections") == 1  # ana's only
    await ana.call("leaveSession", {"sessionId": scenario.session_id})
    assert await harness.metric("studygroups_session_rooms") == 0


async def test_event_names_outside_the_contract_are_refused_and_counted(
    harness: Harness,
) -> None:
    cy = await harness.raw("cy")

    answers = [await cy.call(name, {}) for name in ("connect_error", "message", "on_connect")]
    await cy.call("refreshToken", {"token": token("cy")})  # API.md §7: reaches the namespace

    assert all(is_error(answer, "BAD_REQUEST") for answer in answers), answers
    assert await harness.metric(
        'studygroups_socket_packets_refused_total{reason="unknown_event"}'
    ) == len(answers)


# -- binary events -----------------------------------------------------------------------------


async def test_a_binary_event_is_refused_at_once_and_its_attachments_are_not_kept(
    harness: Harness,
) -> None:
    cy = await harness.raw("cy")
    placeholder = '{"_placeholder":true,"num":0}'

    ack_id = cy.new_id()
    await cy.send(f'51-{NS},{ack_id}["typing",{placeholder}]')
    refused = await cy.ack(ack_id)
    await cy.send(f'5999-{NS},["typing",{placeholder}]')  # announces 999 attachments
    for _ in range(3):
        await cy.send(b"\x00" * 1024)
    after = await cy.call("leaveSession", {"sessionId": NEVER_JOINED})

    assert is_error(refused, "BAD_REQUEST")
    # A server buffering the announced attachments would take this text frame for one of them.
    assert after["success"] is True
    assert await harness.metric('studygroups_socket_packets_refused_total{reason="binary"}') >= 2


def resident_bytes() -> int:
    """This process's resident memory (the server runs in the test's event loop)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096


async def test_a_thousand_announced_attachments_do_not_grow_the_servers_memory(
    harness: Harness,
) -> None:
    cy = await harness.raw("cy")
    attachment = b"\x01" * 700_000  # under maxPayload (1 MB) even base64-encoded for polling
    await cy.send(f'51000-{NS},["typing",{{"_placeholder":true,"num":0}}]')
    await cy.send(attachment)
    before = resident_bytes()

    for _ in range(110):  # 77 MB a buffering server would keep; within the default burst
        await cy.send(attachment)
    try:
        after = await cy.call("leaveSession", {"sessionId": NEVER_JOINED})
    except TimeoutError:
        after = None  # a buffering server takes this frame for one more attachment

    assert resident_bytes() - before < 40_000_000
    assert after is not None
    assert after["success"] is True


# -- malformed frames --------------------------------------------------------------------------

ENGINEIO_GARBAGE = ("x", "9", "7hello", "babc", "\u0663")
SOCKETIO_GARBAGE = (
    "",
    "x",
    "9",
    f"2{NS},{{",
    f"2{NS},[1]",
    f'2{NS},"just a string"',
    f"2{NS},7[]",
    f'4{NS},{{"message":"a client cannot send CONNECT_ERROR"}}',
    f"3{NS},5{{}}",
    "2/unknown-namespace,[",
    f'2{NS},["leaveSession",{"[]," * 3000}[]]',  # over 8 kB: not decoded at all
)


@contextmanager
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record the process logs meanwhile, uvicorn's own (which do not propagate) too."""
    uvicorn_log = logging.getLogger("uvicorn")
    uvicorn_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG):
            yield caplog.records
    finally:
        uvicorn_log.removeHandler(caplog.handler)


async def test_malformed_frames_are_counted_and_logged_once_without_a_traceback(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cy = await harness.raw()  # malformed frames need no login
    sent = 0
    with server_log(caplog) as records:
        for _ in range(6):  # 60 Socket.IO packets: within the default burst of the socket
            for packet in ENGINEIO_GARBAGE:
                await cy.send_engineio(packet)
            for message in SOCKETIO_GARBAGE:
                await cy.send(message)
            sent += len(ENGINEIO_GARBAGE) + len(SOCKETIO_GARBAGE)
        if isinstance(cy, PollingClient):
            await cy.post(b"4\xff\xfe")  # not UTF-8
            await cy.post("\x1e".join(["6"] * 17).encode())  # more packets than one POST holds
            sent += 2
        await cy.login("cy")
        still_served = await cy.call("leaveSession", {"sessionId": NEVER_JOINED})

    assert still_served["success"] is True
    assert not [r for r in records if r.exc_info or "Traceback" in r.getMessage()]
    assert not [r for r in records if r.levelno >= logging.ERROR]
    # (a server run without the native protocol also says so once: not about frames)
    warnings = [
        r
        for r in records
        if r.levelno == logging.WARNING and "served by python-engineio" not in r.getMessage()
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "malformed" in warnings[0].getMessage()
    counted = await harness.metric('studygroups_socket_packets_refused_total{reason="malformed"}')
    assert counted == sent


async def test_an_event_over_8_kib_is_answered_bad_request_without_being_decoded(
    harness: Harness,
) -> None:
    cy = await harness.raw("cy")

    ack = await cy.call("leaveSession", {"sessionId": "x" * 9000})
    still_served = await cy.call("leaveSession", {"sessionId": NEVER_JOINED})

    assert ack == {
        "success": False,
        "error": {"code": "BAD_REQUEST", "message": "a packet over 8,192 bytes"},
    }
    assert still_served["success"] is True


async def test_a_connect_over_8_kib_is_refused_with_a_connect_error_and_a_login_still_works(
    harness: Harness,
) -> None:
    cy = await harness.raw()

    await cy.send(f'0{NS},{{"token":"{"x" * 9000}"}}')
    refused = await cy.receive()
    await cy.login("cy")

    assert refused == f'4{NS},{{"message":"a packet over 8,192 bytes"}}'
    assert (await cy.call("leaveSession", {"sessionId": NEVER_JOINED}))["success"] is True


# -- floods ------------------------------------------------------------------------------------

TIGHT = {"socket_events_per_second": 0.001, "socket_event_burst": 6, "socket_event_flood_limit": 20}


@pytest.mark.parametrize("overrides", [TIGHT])
async def test_a_flooding_socket_is_rate_limited_then_disconnected_while_others_go_on(
    harness: Harness,
) -> None:
    scenario = await make_session(harness.rest, ["ana", "bo", "cy"])
    bo = await harness.peers.joined("bo", scenario.session_id)
    cy = await harness.raw("cy")  # the namespace CONNECT took one of its 6 tokens
    for _ in range(5):
        assert (await cy.call("leaveSession", {"sessionId": NEVER_JOINED}))["success"]

    join = await cy.call("joinSession", {"sessionId": scenario.session_id})
    unknown = await cy.call("launchMissiles", {})
    await scenario.chat("ana", "cy never joined")
    await bo.wait_for("chat.message")
    probe = await cy.call("leaveSession", {"sessionId": NEVER_JOINED})

    assert is_error(join, "RATE_LIMITED")
    assert is_error(unknown, "RATE_LIMITED")  # the limit comes before the name is looked at
    assert is_error(probe, "RATE_LIMITED")
    assert "chat.message" not in cy.names()
    assert bo.of("userJoined") == []
    try:
        for _ in range(40):
            await cy.send(f'2{NS},["leaveSession",{{"sessionId":"{NEVER_JOINED}"}}]')
    except Closed:
        pass  # long-polling: the POST after the disconnect is refused
    await cy.wait_closed()
    await bo.settle()
    assert bo.connected
    assert await harness.metric("studygroups_socket_flood_disconnects_total") == 1
    assert (
        await harness.metric('studygroups_socket_packets_refused_total{reason="rate_limited"}')
        >= 20
    )


@pytest.mark.parametrize("overrides", [TIGHT])
async def test_a_socket_flooding_with_engineio_noops_and_pings_is_disconnected_too(
    harness: Harness,
) -> None:
    """Packets python-socketio never sees (Engine.IO noops, pings, pongs) took no token: one
    anonymous socket sending them back to back held the loop until its login time ran out."""
    scenario = await make_session(harness.rest, ["ana", "bo", "cy"])
    bo = await harness.peers.joined("bo", scenario.session_id)
    cy = await harness.raw("cy")

    # By long-polling a client sends pongs; noops and pings only on a WebSocket.
    flood = ["3"] if harness.path == "polling" else ["6", "2probe"]
    try:
        for n in range(60):
            await cy.send_engineio(flood[n % len(flood)])
    except Closed:
        pass  # long-polling: the POST after the disconnect is refused
    await cy.wait_closed()
    await scenario.chat("ana", "still here")

    [message] = await bo.wait_for("chat.message")
    assert message["message"] == "still here"
    assert await harness.metric("studygroups_socket_flood_disconnects_total") == 1


@pytest.fixture
async def polling(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    async with harness_on(
        "polling", make_settings(sqlite_url, tmp_path), open_raw, monkeypatch
    ) as h:
        yield h


@pytest.mark.parametrize("packet", ["0", "2", "6"])
async def test_a_post_carrying_a_packet_only_a_websocket_or_server_sends_is_answered_at_once(
    polling: Harness, packet: str
) -> None:
    """python-engineio closed the session on such a packet and held the POST until the client
    read the CLOSE, which it need never do: the connection stayed taken."""
    scenario = await make_session(polling.rest, ["ana", "cy"])
    cy = await polling.raw("cy")
    assert isinstance(cy, PollingClient)

    await cy.post(packet.encode())  # answered 200, not held (raw.py times out after a while)
    joined = await cy.call("joinSession", {"sessionId": scenario.session_id})

    assert joined["success"], joined  # the session goes on
    assert await polling.metric('studygroups_socket_packets_refused_total{reason="malformed"}') == 1


async def test_a_second_poll_of_a_session_is_answered_at_once_and_the_first_still_gets_its_news(
    polling: Harness,
) -> None:
    """Clients never hold two polls: python-engineio let a session hold any number, each a
    connection with a request in flight (never evicted at MAX_CONNECTIONS) for 45 s, past the
    session's end."""
    scenario = await make_session(polling.rest, ["ana", "cy"])
    cy = await polling.raw("cy")
    assert isinstance(cy, PollingClient)
    first = asyncio.create_task(cy.poll())
    await asyncio.sleep(0.3)  # the first poll is waiting

    upgrade_named = {"Connection": "keep-alive, upgrade"}  # naming an upgrade is not one
    others = await asyncio.wait_for(
        asyncio.gather(*(cy.poll(upgrade_named if n % 2 else None) for n in range(6))), 5
    )
    ack_id = cy.new_id()
    await cy.send(f'2{NS},{ack_id}["joinSession",{{"sessionId":"{scenario.session_id}"}}]')
    status, news = await asyncio.wait_for(first, 5)

    assert others == [(200, "6")] * 6  # a NOOP each, at once
    assert status == 200 and news.startswith(f"43{NS},{ack_id}"), news
