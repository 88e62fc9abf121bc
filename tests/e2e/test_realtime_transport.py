"""The WebSocket transport as a bare Engine.IO 4 client sees it (realtime/engine.py): the
handshake, the heartbeat, size limits, WebSocket control frames, shutdown, and long-polling
sessions upgrading onto it (realtime/upgrade.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from studygroups.app import build
from studygroups.realtime.engine import NativeSocket
from tests.conftest import LiveServer, make_settings, serve, token
from tests.e2e.clients import Peers
from tests.support import make_session

NS = "/study-groups"


def ws_url(server: LiveServer, query: str = "EIO=4&transport=websocket") -> str:
    return f"ws://127.0.0.1:{server.port}/socket.io/?{query}"


@asynccontextmanager
async def engine_socket(
    server: LiveServer, **options: Any
) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]]:
    """A WebSocket to the server and the OPEN packet it answered with."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(ws_url(server), **options) as socket,
    ):
        first = await socket.receive_str(timeout=5)
        assert first[0] == "0"
        yield socket, json.loads(first[1:])


async def next_text(socket: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> str:
    message = await socket.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return str(message.data)


async def test_a_websocket_client_is_opened_with_its_sid_no_upgrades_and_the_heartbeat(
    server: LiveServer,
) -> None:
    async with engine_socket(server) as (_, opened):
        assert isinstance(opened["sid"], str)
        assert opened["sid"]
        assert opened["upgrades"] == []
        assert opened["pingInterval"] == 25_000
        assert opened["pingTimeout"] == 20_000
        assert opened["maxPayload"] == 1_000_000


async def test_a_bare_client_connects_to_the_namespace_and_gets_acks_for_its_events(
    server: LiveServer,
) -> None:
    async with engine_socket(server) as (socket, _):
        await socket.send_str(f"40{NS}," + json.dumps({"token": token("ana")}))
        connected = await next_text(socket)
        assert connected.startswith(f"40{NS},")
        assert "sid" in json.loads(connected.split(",", 1)[1])

        await socket.send_str(f'42{NS},7["typing",{{}}]')
        ack = await next_text(socket)
        assert ack.startswith(f"43{NS},7")
        [answer] = json.loads(ack.split("7", 1)[1])
        assert answer["success"] is False
        assert answer["error"]["code"] == "BAD_REQUEST"


async def test_a_client_that_answers_pings_stays_and_one_that_does_not_is_closed(
    server: LiveServer,
) -> None:
    eio = server.service.sio.eio
    eio.ping_interval, eio.ping_timeout = 0.2, 0.3
    async with engine_socket(server) as (answering, _), engine_socket(server) as (silent, _):
        pings = 0
        for _ in range(3):
            assert await next_text(answering) == "2"
            pings += 1
            await answering.send_str("3")
        assert await next_text(silent) == "2"
        assert await next_text(silent) == "1"  # Engine.IO CLOSE: the ping timed out
        closing = await silent.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert not answering.closed
        assert pings == 3


async def test_a_message_over_the_size_limit_closes_the_websocket_with_1009(
    server: LiveServer,
) -> None:
    server.service.sio.eio.max_http_buffer_size = 1000
    async with engine_socket(server) as (socket, opened):
        assert opened["maxPayload"] == 1000
        await socket.send_str("4" + "x" * 2000)
        closing = await socket.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert closing.data == 1009


async def test_websocket_pings_are_answered_with_pongs_carrying_the_same_bytes(
    server: LiveServer,
) -> None:
    async with engine_socket(server, autoping=False) as (socket, _):
        await socket.ping(b"still there?")
        pong = await socket.receive(timeout=5)
        assert pong.type == aiohttp.WSMsgType.PONG
        assert pong.data == b"still there?"


@pytest.mark.parametrize(
    "query",
    ["EIO=3&transport=websocket", "EIO=4&transport=websocket&sid=unknown"],
)
async def test_upgrades_engine_io_does_not_accept_are_refused_before_the_handshake(
    server: LiveServer, query: str
) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(server, query))
    # python-engineio answers 400; uvicorn turns a WebSocket refused before accept into 403
    assert refused.value.status == 403


@pytest.mark.parametrize(
    "path",
    [
        "/socket.io?EIO=4&transport=websocket",
        "/socket.io//?EIO=4&transport=websocket",
        "/socket.io/?EIO=4&transport=websocket&transport=websocket",
        "/socket.io-msgpack?EIO=4&transport=websocket",
    ],
)
async def test_spellings_of_the_socket_io_path_the_native_path_does_not_take_are_refused(
    server: LiveServer, path: str
) -> None:
    """They went on to python-engineio, where the native path's bounds did not hold: a client
    that never read and sent PINGs grew the server by 700 MB in 75 s."""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(server.url.replace("http", "ws", 1) + path)

    assert refused.value.status == 403


async def test_stopping_the_server_tells_websocket_clients_to_go_away(
    sqlite_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with aiohttp.ClientSession() as http:
            async with serve(service) as live:
                socket = await http.ws_connect(ws_url(live))
                assert (await socket.receive_str(timeout=5))[0] == "0"
                closing = asyncio.ensure_future(socket.receive(timeout=10))
            message = await closing
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert message.data == 1001
            await socket.close()
    finally:
        await service.database.dispose()


# -- long-polling sessions upgrading to WebSocket (realtime/upgrade.py) -------------------------


async def test_a_polling_client_that_upgrades_moves_onto_the_native_websocket_with_its_session(
    server: LiveServer, peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo", transports=("polling", "websocket"))
    await bo.join_ok(scenario.session_id)
    await bo.wait_until(lambda: bo.sio.transport() == "websocket", "the upgrade")
    socket = server.service.sio.eio.sockets[bo.sio.eio.sid]
    assert isinstance(socket, NativeSocket)
    environ = server.service.sio.get_environ(bo.sio.get_sid(NS), NS)
    assert "transport=polling" in environ["QUERY_STRING"]  # the session's first request
    assert "asgi.scope" not in environ  # the first polling request's objects are let go

    await scenario.chat("ana", "after the upgrade")
    ana = await peers.joined("ana", scenario.session_id)
    await ana.call("typing", {"sessionId": scenario.session_id, "isTyping": True})

    [message] = await bo.wait_for("chat.message")
    assert message["message"] == "after the upgrade"
    [typing] = await bo.wait_for("chat.typing")
    assert typing["userId"] == "ana"


async def test_events_sent_while_a_client_upgrades_arrive_once_and_in_order(
    server: LiveServer, peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.connect("bo", transports=("polling", "websocket"))
    await bo.join_ok(scenario.session_id)
    await asyncio.gather(*(scenario.chat("ana", f"message {i}") for i in range(30)))

    await bo.wait_for("chat.message", 30)
    await bo.wait_until(lambda: bo.sio.transport() == "websocket", "the upgrade")
    await bo.settle()
    assert bo.seqs() == list(range(2, 32))  # seq 1 is session.started, before the join


async def test_a_websocket_that_fails_before_the_upgrade_packet_leaves_the_session_on_polling(
    server: LiveServer,
) -> None:
    base = f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling"
    async with httpx.AsyncClient(timeout=10) as http, aiohttp.ClientSession() as session:
        opened = (await http.get(base)).text
        sid = json.loads(opened[1:])["sid"]
        async with session.ws_connect(ws_url(server, f"EIO=4&transport=websocket&sid={sid}")) as w:
            await w.send_str("2probe")
            assert await next_text(w) == "3probe"
        # the probe ended the pending poll with a NOOP; the session goes on over polling
        connect = f"40{NS}," + json.dumps({"token": token("ana")})
        assert (await http.post(f"{base}&sid={sid}", content=connect)).text == "OK"
        answers = ""
        for _ in range(5):
            answers += (await http.get(f"{base}&sid={sid}")).text
            if f"40{NS}," in answers:
                break
        assert f"40{NS}," in answers
        socket = server.service.sio.eio.sockets[sid]
        assert not isinstance(socket, NativeSocket)
        assert not socket.upgrading
        await http.post(f"{base}&sid={sid}", content="1")  # Engine.IO CLOSE, from the client
