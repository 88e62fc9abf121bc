"""MAX_SOCKETS_PER_USER: a user's connections beyond the cap are refused without blaming the
token (the seed's client would loop refreshing it), and a freed slot can be taken again."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import socketio

from tests.conftest import token
from tests.e2e.clients import WAIT, Peer, Peers
from tests.e2e.test_metrics import sample

DEFAULT_CAP = 20


async def _connections_become(rest: httpx.AsyncClient, count: int) -> None:
    async with asyncio.timeout(WAIT):
        while sample((await rest.get("/metrics")).text, "studygroups_socket_connections") != count:
            await asyncio.sleep(0.02)


async def test_the_twenty_first_connection_of_a_user_is_refused_without_mentioning_the_token(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    tabs = [await peers.connect("bo", label=f"bo-{n}") for n in range(DEFAULT_CAP)]

    extra = Peer("bo-extra")
    peers.all.append(extra)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await extra.connect(peers.live.url, auth={"token": token("bo")})
    other_user = await peers.connect("ana")
    await tabs[0].disconnect()
    await _connections_become(rest, DEFAULT_CAP)  # 19 of bo's, 1 of ana's
    freed = await peers.connect("bo", label="bo-again")

    assert all(tab.connected for tab in tabs[1:])
    message = extra.connect_errors[0]["message"]
    assert message == "Too many connections for this user"
    assert "token" not in message.lower()
    assert not extra.connected
    assert other_user.connected
    assert freed.connected
    metrics = (await rest.get("/metrics")).text
    assert sample(metrics, "studygroups_socket_refused_per_user_total") == 1
