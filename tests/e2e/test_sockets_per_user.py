"""MAX_SOCKETS_PER_USER: a user's connections beyond the cap are refused without blaming the
token (the seed's client would loop refreshing it), and a freed slot can be taken again."""

from __future__ import annotations

import asyncio
import json
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


async def test_a_connection_is_answered_while_its_users_row_is_locked_and_the_name_lands_later(
    on_postgres: LiveServer, postgres_url: str
) -> None:
    """The CONNECT never waits on the database for the user's record (a reconnect storm would
    queue every connection behind it): the record is written in the background."""
    engine = create_async_engine(postgres_url, poolclass=NullPool)
    peers = Peers(on_postgres)
    try:
        async with httpx.AsyncClient(base_url=on_postgres.url) as rest:
            assert (await rest.get("/groups", headers=auth("bo"))).status_code == 200
        async with engine.begin() as holder, aiohttp.ClientSession() as http:
            await holder.execute(text("SELECT 1 FROM users WHERE id = 'bo' FOR UPDATE"))
            url = f"ws://127.0.0.1:{on_postgres.port}/socket.io/?EIO=4&transport=websocket"
            async with http.ws_connect(url) as socket:
                await socket.receive_str(timeout=WAIT)  # Engine.IO open
                renamed = token("bo", "Bo Renamed")  # new claims: the user's row is written
                await socket.send_str("40/study-groups," + json.dumps({"token": renamed}))
                answer = await socket.receive_str(timeout=WAIT)
                assert answer.startswith("40/study-groups,{")  # connected, the row still locked
                await _until(lambda: _lock_waits(engine), "the record's write to wait for the row")
        # The row is free: the record is written now.
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
