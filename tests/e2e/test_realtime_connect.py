"""Connecting to /study-groups: the ways a token may be carried, refusals, and CORS."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
import socketio

from studygroups.identity import mint_token
from tests.conftest import SECRET, LiveServer, token
from tests.e2e.clients import Peer, Peers
from tests.support import make_session


@pytest.mark.parametrize("via", ["auth", "query", "bearer"])
async def test_a_member_connects_with_a_token_and_can_join_their_session(
    via: str, peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])

    peer = await peers.connect("bo", via=via)
    ack = await peer.join(scenario.session_id)

    assert ack["success"] is True
    assert ack["sessionId"] == scenario.session_id


async def test_the_server_learns_the_user_name_from_the_token_of_a_socket(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)

    peer = Peer("bo")
    peers.all.append(peer)
    named = mint_token(SECRET, "bo", "Bo Renamed", "bo@example.org", 3600)
    await peer.connect(peers.live.url, auth={"token": named})
    await peer.join_ok(scenario.session_id)

    [joined] = await ana.wait_for("userJoined")
    assert joined["userName"] == "Bo Renamed"


async def test_a_bearer_prefix_in_the_query_token_is_accepted(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])

    peer = Peer("bo")
    peers.all.append(peer)
    await peer.connect(f"{peers.live.url}?token={quote('Bearer ' + token('bo'))}")

    assert (await peer.join(scenario.session_id))["success"] is True


def _forged(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


REFUSALS: list[tuple[str, dict[str, Any] | None, str, str]] = [
    ("no auth and no query", None, "", "No token provided"),
    ("an empty auth object", {}, "", "No token provided"),
    ("an empty token", {"token": ""}, "", "No token provided"),
    ("a bare Bearer prefix", {"token": "Bearer "}, "", "No token provided"),
    ("a token that is not a JWT", {"token": "not-a-jwt"}, "", "Invalid or expired token"),
    ("a garbage query token", None, "?token=garbage", "Invalid or expired token"),
    (
        "an expired token",
        {"token": mint_token(SECRET, "bo", "Bo", "bo@example.org", -60)},
        "",
        "Invalid or expired token",
    ),
    (
        "a token signed with another secret",
        {"token": mint_token("another-secret-that-is-long-enough!!", "bo", "Bo", "b@x.org", 60)},
        "",
        "Invalid or expired token",
    ),
    (
        "a token without a name claim",
        {"token": _forged({"sub": "bo", "email": "bo@example.org"})},
        "",
        "Invalid or expired token",
    ),
    (
        "a token without a sub claim",
        {"token": _forged({"name": "Bo", "email": "bo@example.org"})},
        "",
        "Invalid or expired token",
    ),
]


@pytest.mark.parametrize(
    ("auth", "query", "message"),
    [pytest.param(a, q, m, id=name) for name, a, q, m in REFUSALS],
)
async def test_a_connection_without_a_valid_token_is_refused_with_a_message_naming_the_token(
    auth: dict[str, Any] | None, query: str, message: str, server: LiveServer
) -> None:
    peer = Peer("stranger")

    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect(server.url + query, auth=auth)

    assert peer.connect_errors, "the client got no connect_error"
    error = peer.connect_errors[0]
    text = error["message"] if isinstance(error, dict) else str(error)
    assert text == message
    assert "token" in text
    assert not peer.connected
    await peer.disconnect()


async def test_the_auth_token_wins_over_a_bad_query_token(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])

    peer = Peer("bo")
    peers.all.append(peer)
    await peer.connect(f"{peers.live.url}?token=garbage", auth={"token": token("bo")})

    assert (await peer.join(scenario.session_id))["success"] is True


async def test_a_socket_connects_over_long_polling_only(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo", transports=["polling"])
    await bo.join_ok(scenario.session_id)

    await scenario.chat("ana", "over polling")

    [message] = await bo.wait_for("chat.message")
    assert message["message"] == "over polling"
    assert bo.sio.transport() == "polling"


async def test_a_socket_that_starts_polling_upgrades_to_websocket_and_keeps_receiving(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo", transports=["polling", "websocket"])
    await bo.join_ok(scenario.session_id)

    await scenario.chat("ana", "after the upgrade")

    [message] = await bo.wait_for("chat.message")
    assert message["message"] == "after the upgrade"


HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


async def test_a_polling_handshake_from_an_unknown_origin_is_refused(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(HANDSHAKE, headers={"Origin": "http://evil.example"})

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_polling_handshake_from_the_configured_front_end_is_accepted(
    server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(HANDSHAKE, headers={"Origin": "http://localhost:3000"})

    assert response.status_code == 200
    assert response.text.startswith("0{")
    assert '"sid"' in response.text
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


async def test_a_websocket_from_an_unknown_origin_is_refused(server: LiveServer) -> None:
    peer = Peer("evil")

    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect(
            server.url, auth={"token": token("bo")}, headers={"Origin": "http://evil.example"}
        )

    assert not peer.connected
    await peer.disconnect()


async def test_a_websocket_from_the_configured_front_end_is_accepted(
    peers: Peers, server: LiveServer
) -> None:
    peer = Peer("bo")
    peers.all.append(peer)

    await peer.connect(
        server.url, auth={"token": token("bo")}, headers={"Origin": "http://localhost:3000"}
    )

    assert peer.connected
