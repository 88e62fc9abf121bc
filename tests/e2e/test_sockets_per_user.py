"""MAX_SOCKETS_PER_USER: a user's connections beyond the cap are refused without blaming the
token (the seed's client would loop refreshing it), and a freed slot can be taken again."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import socketio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from studygroups.app import build
from tests.conftest import LiveServer, auth, make_settings, serve, token
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


@pytest.fixture
async def on_postgres(postgres_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    service = build(make_settings(postgres_url, tmp_path))
    try:
        async with serve(service) as live:
            yield live
    finally:
        await service.database.dispose()


@pytest.mark.skipif(
    bool(os.environ.get("UVICORN_WS")),
    reason="python-engineio's WebSocket path notices this close only after the connect finished "
    "(then its disconnect is reported as usual): the race needs the native transport",
)
async def test_a_connection_abandoned_while_its_user_is_being_recorded_takes_no_slot(
    on_postgres: LiveServer, postgres_url: str
) -> None:
    """A socket that goes away while the server waits on the database to record its user gets
    no disconnect from python-socketio: it must not be counted as one of the user's sockets."""
    eio = on_postgres.service.sio.eio
    engine = create_async_engine(postgres_url, poolclass=NullPool)
    peers = Peers(on_postgres)
    try:
        async with httpx.AsyncClient(base_url=on_postgres.url) as rest:
            assert (await rest.get("/groups", headers=auth("bo"))).status_code == 200
        async with engine.begin() as holder, aiohttp.ClientSession() as http:
            await holder.execute(text("SELECT 1 FROM users WHERE id = 'bo' FOR UPDATE"))
            url = f"ws://127.0.0.1:{on_postgres.port}/socket.io/?EIO=4&transport=websocket"
            async with http.ws_connect(url) as socket:
                opened = json.loads((await socket.receive_str(timeout=WAIT))[1:])
                renamed = token("bo", "Bo Renamed")  # new claims: the user's row is written
                await socket.send_str("40/study-groups," + json.dumps({"token": renamed}))
                await _until(lambda: _lock_waits(engine), "the server to wait for the row")
            await _until(lambda: _gone(eio, opened["sid"]), "the server to see the socket go")
        # The row is free: the abandoned connection's handler finishes now.
        await _until(lambda: _name_is(engine, "Bo Renamed"), "the user's row to be written")
        tabs = [await peers.connect("bo", label=f"bo-{n}") for n in range(DEFAULT_CAP)]
        assert all(tab.connected for tab in tabs)
    finally:
        await peers.close()
        await engine.dispose()


async def _until(check: Any, what: str) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while not await check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"waited {WAIT} s for {what}") from None


async def _lock_waits(engine: Any) -> bool:
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def _gone(eio: Any, sid: str) -> bool:
    socket = eio.sockets.get(sid)
    return socket is None or bool(socket.closed)


async def _name_is(engine: Any, name: str) -> bool:
    async with engine.connect() as connection:
        current = await connection.scalar(text("SELECT name FROM users WHERE id = 'bo'"))
    return bool(current == name)
