"""Tokens on live sockets (API.md §7): a socket ends with its token unless the client refreshes
it in-band with `refreshToken`; a refused refresh changes nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
import socketio

from studygroups.identity import mint_token
from tests.conftest import token
from tests.e2e.clients import TIMESTAMP, Peer, Peers, is_error
from tests.e2e.test_metrics import sample
from tests.support import make_session


def token_exp(jwt_token: str) -> int:
    return int(jwt.decode(jwt_token, options={"verify_signature": False})["exp"])


def iso_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def _connect(peers: Peers, user: str, jwt_token: str, **options: Any) -> Peer:
    peer = Peer(user)
    peers.all.append(peer)
    await peer.connect(peers.live.url, auth={"token": jwt_token}, **options)
    return peer


async def _past(moment: float) -> None:
    """Let the wall clock pass `moment` (a bounded wait to observe that nothing happens)."""
    await asyncio.sleep(max(0.0, moment - time.time()))


async def _expired_and_dropped(peer: Peer) -> dict[str, Any]:
    """Wait for the server to disconnect `peer`; the auth.expired it was sent just before."""
    await peer.wait_for_disconnect()
    expired = peer.of("auth.expired")
    assert len(expired) == 1, peer.names()
    assert peer.names()[-1] == "auth.expired", "auth.expired comes last, right before the end"
    payload: dict[str, Any] = expired[0]
    return payload


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_socket_is_told_its_token_expired_then_disconnected_and_cannot_reconnect_with_it(
    transport: str, peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    short = token("bo", ttl=3)  # at least 2 s to connect and join, even on a busy machine
    bo = await _connect(peers, "bo", short, transports=[transport])
    await bo.join_ok(scenario.session_id)

    expired = await _expired_and_dropped(bo)
    [left] = await ana.wait_for("userLeft")
    again = Peer("bo-again")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect(peers.live.url, auth={"token": short})

    assert set(expired) == {"timestamp"}
    assert TIMESTAMP.match(expired["timestamp"])
    assert expired["timestamp"] >= iso_second(token_exp(short)), "not before the token's exp"
    assert left["userId"] == "bo"
    assert again.connect_errors[0]["message"] == "Invalid or expired token"
    await again.disconnect()
    metrics = (await rest.get("/metrics")).text
    assert sample(metrics, "studygroups_socket_token_expired_total") == 1


async def test_a_refreshed_socket_outlives_its_old_token_and_expires_with_the_new_one(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    old, new = token("bo", ttl=3), token("bo", ttl=5)  # old: at least 2 s to refresh in
    bo = await _connect(peers, "bo", old)
    await bo.join_ok(scenario.session_id)

    ack = await bo.call("refreshToken", {"token": new})
    await _past(token_exp(old) + 1.5)
    await scenario.chat("ana", "are you still there?")
    [message] = await bo.wait_for("chat.message")
    still_connected = bo.connected
    expired = await _expired_and_dropped(bo)

    assert ack == {"success": True, "expiresAt": iso_second(token_exp(new))}
    assert still_connected
    assert message["message"] == "are you still there?"
    assert expired["timestamp"] >= iso_second(token_exp(new))


async def test_a_refresh_accepts_a_bearer_prefix_and_a_token_without_exp_disarms_expiry(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    old = token("bo", ttl=3)
    bo = await _connect(peers, "bo", old)
    await bo.join_ok(scenario.session_id)

    ack = await bo.call("refreshToken", {"token": "Bearer " + token("bo", ttl=None)})
    await _past(token_exp(old) + 1.5)
    await scenario.chat("ana", "hello")
    await bo.wait_for("chat.message")

    assert ack == {"success": True, "expiresAt": None}
    assert bo.connected
    assert bo.of("auth.expired") == []


async def test_a_refused_refresh_is_unauthorized_and_the_socket_still_expires_with_its_token(
    peers: Peers,
) -> None:
    current = token("bo", ttl=3)
    bo = await _connect(peers, "bo", current)
    refusals: list[Any] = [
        None,
        "a string",
        {},
        {"token": 42},
        {"token": ""},
        {"token": "not-a-jwt"},
        {"token": token("ana")},  # valid, another user
        {"token": token("bo", ttl=-10)},  # the same user, expired
        {"token": mint_token("another-secret-" + "x" * 40, "bo", "Bo", "bo@e.org", 3600)},
    ]

    acks = [await bo.call("refreshToken", payload) for payload in refusals]
    expired = await _expired_and_dropped(bo)

    for payload, ack in zip(refusals, acks, strict=True):
        assert is_error(ack, "UNAUTHORIZED"), (payload, ack)
    assert expired["timestamp"] >= iso_second(token_exp(current))
