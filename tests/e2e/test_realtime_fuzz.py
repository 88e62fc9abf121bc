"""Random payloads to every client event: each is acknowledged with a contract error code (or a
success when it happens to be valid), the socket stays connected, and it joins no room.

Payloads stay well under the transport's frame limit (`max_http_buffer_size` in
realtime/server.py: a larger frame closes the connection, as Socket.IO's maxHttpBufferSize does;
see docs/realtime.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from tests.e2e.clients import DURABLE_EVENTS, ERROR_CODES, Peer, Peers
from tests.support import Scenario, make_session

SESSION = "\x00real-session\x00"  # replaced by the real session id before sending
MESSAGE = "\x00real-message\x00"  # replaced by the id of a real chat message of the session
EVENTS = ("joinSession", "leaveSession", "typing", "markRead")
FIELDS = ("sessionId", "lastSeq", "isTyping", "messageId")
SEQ_MAX = 2**53
FRAME_BUDGET = 60_000  # bytes of JSON, far below the server's frame limit

huge_strings = st.builds(
    lambda char, size: char * size,
    st.characters(codec="utf-8"),
    st.integers(min_value=1_000, max_value=8_000),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-2, max_value=5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=70),
    huge_strings,
    st.sampled_from([SESSION, MESSAGE]),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=8,
)
near_valid = st.fixed_dictionaries(
    {"sessionId": st.one_of(st.just(SESSION), leaves)},
    optional={
        "lastSeq": leaves,
        "isTyping": leaves,
        "messageId": st.one_of(st.just(MESSAGE), leaves),
    },
)
well_formed = st.fixed_dictionaries(
    {"sessionId": st.just(SESSION)},
    optional={
        "lastSeq": st.one_of(st.none(), st.integers(min_value=0, max_value=3), leaves),
        "isTyping": st.one_of(st.booleans(), leaves),
        "messageId": st.one_of(st.just(MESSAGE), leaves),
    },
)
payloads = st.one_of(
    values,
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), values, max_size=5),
    near_valid,
    well_formed,
)


def _substitute(value: Any, session_id: str, message_id: str) -> Any:
    if value == SESSION:
        return session_id
    if value == MESSAGE:
        return message_id
    if isinstance(value, list):
        return [_substitute(v, session_id, message_id) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, session_id, message_id) for k, v in value.items()}
    return value


def _is_seq(value: Any) -> bool:
    return value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEQ_MAX
    )


def valid(event: str, payload: Any, session_id: str, message_id: str) -> bool:
    """Whether the payload is one the contract lets succeed for a member not in the room."""
    if not isinstance(payload, dict):
        return False
    sid = payload.get("sessionId")
    if event == "joinSession":
        return sid == session_id and _is_seq(payload.get("lastSeq"))
    if event == "leaveSession":
        return isinstance(sid, str) and 1 <= len(sid) <= 64
    if event == "markRead":
        return sid == session_id and payload.get("messageId") == message_id
    return False  # typing: the socket is never in the room when it types


@dataclass
class Room:
    scenario: Scenario
    watcher: Peer
    pool: list[Peer]
    message_id: str
    sent: int = 0
    joins: int = 0


@pytest.fixture
async def room(peers: Peers, rest: httpx.AsyncClient) -> Room:
    """ana watches the session; bo's four tabs (members, not joined) take turns being fuzzed."""
    scenario = await make_session(rest, ["ana", "bo"])
    watcher = await peers.joined("ana", scenario.session_id)
    pool = [await peers.connect("bo", label=f"bo-tab{n}") for n in range(4)]
    message_id = (await scenario.chat("ana", "a message to mark read")).json()["id"]
    return Room(scenario, watcher, pool, message_id)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=st.sampled_from(EVENTS), raw=payloads)
async def test_any_payload_is_acknowledged_without_disconnecting_or_joining(
    room: Room, event: str, raw: Any
) -> None:
    session_id = room.scenario.session_id
    payload = _substitute(raw, session_id, room.message_id)
    assume(len(json.dumps([event, payload])) < FRAME_BUDGET)
    peer = room.pool[room.sent % len(room.pool)]
    room.sent += 1

    ack = await peer.call(event, payload)

    assert isinstance(ack, dict), ack
    label(f"{event}: {ack['error']['code'] if ack.get('success') is False else 'success'}")
    if ack.get("success") is True:
        assert valid(event, payload, session_id, room.message_id), (event, payload, ack)
        if event == "joinSession":
            room.joins += 1
            assert (await peer.call("leaveSession", {"sessionId": session_id}))["success"]
    else:
        assert ack.get("success") is False, ack
        assert ack["error"]["code"] in ERROR_CODES, ack
        assert isinstance(ack["error"]["message"], str), ack
    await room.scenario.chat("ana", "is anyone else in the room?")
    for other in room.pool:
        await other.settle()
        assert other.connected, f"{other.label} was disconnected by {event} {payload!r:.200}"
        assert not [name for name, _ in other.events if name in DURABLE_EVENTS], (
            f"{other.label} joined the room with {event} {payload!r:.200}"
        )
    await room.watcher.settle()
    assert len(room.watcher.of("userJoined")) == room.joins


async def test_an_unknown_event_is_a_bad_request_and_the_socket_stays_connected(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo")

    ack = await bo.call("launchMissiles", {"sessionId": scenario.session_id})

    assert ack["success"] is False
    assert ack["error"]["code"] == "BAD_REQUEST"
    await bo.settle()
    assert bo.connected
