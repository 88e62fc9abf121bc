"""What a socket may hold on the server (realtime/bounds.py, docs/security.md): a client that
stops reading is cut off on every path, and an Engine.IO session that never logs in is closed.

These run on the native WebSocket path by default and on python-engineio's (through uvicorn)
when scripts/check runs the e2e suite again with UVICORN_WS=websockets-sansio; long-polling is
python-engineio's either way.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve, token

NS = "/study-groups"
MEGABYTE = "x" * 1_000_000


@asynccontextmanager
async def bounded_server(
    sqlite_url: str, tmp_path: Path, **settings: Any
) -> AsyncIterator[LiveServer]:
    service = build(make_settings(sqlite_url, tmp_path, **settings))
    try:
        async with serve(service) as live:
            yield live
    finally:
        await service.database.dispose()


# -- a raw WebSocket client that can stop reading ---------------------------------------------


class RawWebSocket:
    """A WebSocket over a plain TCP socket with a small receive buffer: once the test stops
    reading, the server's writes pile up on the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, subprotocol: str | None) -> tuple[RawWebSocket, str]:
        """Connect, complete the handshake; the socket and the response's head."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else ""
        writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
            ).encode()
        )
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode("latin-1")
        assert head.startswith("HTTP/1.1 101"), head
        return cls(reader, writer), head

    async def receive_text(self) -> str:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(await self.reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await self.reader.readexactly(8), "big")
        payload = await self.reader.readexactly(length)
        assert first & 0x0F == 0x1, f"opcode {first & 0x0F}"
        return payload.decode()

    def send_text(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        assert len(data) < 65536
        length = bytes((0x80 | len(data),)) if len(data) < 126 else b"\xfe" + len(data).to_bytes(2)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(b"\x81" + length + mask + masked)

    async def read_until_closed(self) -> None:
        """Read (and drop) what is left until the server ends the connection."""
        with suppress(ConnectionError):
            while await asyncio.wait_for(self.reader.read(2**20), 30):
                pass

    def close(self) -> None:
        self.writer.close()


async def log_in_over_websocket(ws: RawWebSocket, user: str) -> tuple[str, str]:
    """Engine.IO OPEN, then Socket.IO CONNECT with a token; the Engine.IO and Socket.IO sids."""
    opened = await ws.receive_text()
    assert opened.startswith("0")
    ws.send_text(f"40{NS}," + json.dumps({"token": token(user)}))
    connected = await ws.receive_text()
    assert connected.startswith(f"40{NS},"), connected
    return json.loads(opened[1:])["sid"], json.loads(connected.split(",", 1)[1])["sid"]


def cut_off(server: LiveServer, eio_sid: str) -> bool:
    socket = server.service.sio.eio.sockets.get(eio_sid)
    return socket is None or bool(socket.closed)


async def flood_until_cut_off(
    server: LiveServer, eio_sid: str, sio_sid: str, most_megabytes: int
) -> int:
    """Emit 1 MB events to the client until the server cuts it off; the megabytes emitted."""
    sent = 0
    while not cut_off(server, eio_sid) and sent < most_megabytes:
        await server.service.sio.emit("flood", MEGABYTE, to=sio_sid, namespace=NS)
        sent += 1
        for _ in range(5):  # let the writes reach the transport (and the writer task run)
            await asyncio.sleep(0.01)
    return sent


def overflows(server: LiveServer) -> float:
    metrics = server.service.api.state.metrics
    return float(
        sum(metrics.socket_overflows.labels(path)._value.get() for path in ("native", "engineio"))
    )


# -- bytes waiting for a client that does not read --------------------------------------------


@pytest.mark.parametrize("subprotocol", [None, "graphql-ws, chat"])
async def test_a_websocket_client_that_stops_reading_is_cut_off_whatever_subprotocol_it_asked_for(
    sqlite_url: str, tmp_path: Path, subprotocol: str | None
) -> None:
    async with bounded_server(sqlite_url, tmp_path) as server:
        ws, head = await RawWebSocket.open(server.port, subprotocol)
        try:
            assert "sec-websocket-protocol" not in head.lower()  # asked for, not selected
            eio_sid, sio_sid = await log_in_over_websocket(ws, "ana")

            emitted = await flood_until_cut_off(server, eio_sid, sio_sid, most_megabytes=40)

            assert cut_off(server, eio_sid), f"still connected after {emitted} MB"
            assert not server.service.sio.manager.is_connected(sio_sid, NS)
            assert overflows(server) == 1
            await ws.read_until_closed()  # the server ended the connection
        finally:
            ws.close()


async def test_a_polling_client_that_stops_polling_is_cut_off_once_4_mib_wait_for_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with (
        bounded_server(sqlite_url, tmp_path) as server,
        httpx.AsyncClient(timeout=10) as http,
    ):
        base = f"{server.url}/socket.io/?EIO=4&transport=polling"
        eio_sid = json.loads((await http.get(base)).text[1:])["sid"]
        connect = f"40{NS}," + json.dumps({"token": token("ana")})
        assert (await http.post(f"{base}&sid={eio_sid}", content=connect)).text == "OK"
        answer = (await http.get(f"{base}&sid={eio_sid}")).text
        sio_sid = json.loads(answer.split(f"40{NS},", 1)[1].split("\x1e")[0])["sid"]

        emitted = await flood_until_cut_off(server, eio_sid, sio_sid, most_megabytes=10)

        assert cut_off(server, eio_sid), f"still connected after {emitted} MB"
        assert emitted == 5  # 4 MiB hold four 1 MB events; the fifth is one too many
        assert overflows(server) == 1
        late = await http.get(f"{base}&sid={eio_sid}")
        assert late.status_code == 400  # the session is gone, and what waited with it


# -- time to log in ---------------------------------------------------------------------------


async def test_a_websocket_session_that_never_connects_a_namespace_is_closed_after_the_timeout(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with (
        bounded_server(sqlite_url, tmp_path, auth_timeout_seconds=0.3) as server,
        aiohttp.ClientSession() as http,
    ):
        url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket"
        async with http.ws_connect(url) as silent, http.ws_connect(url) as member:
            assert (await silent.receive_str(timeout=5))[0] == "0"
            assert (await member.receive_str(timeout=5))[0] == "0"
            await member.send_str(f"40{NS}," + json.dumps({"token": token("ana")}))
            assert (await member.receive_str(timeout=5)).startswith(f"40{NS},")

            assert await silent.receive_str(timeout=10) == "1"  # Engine.IO CLOSE
            closing = await silent.receive(timeout=10)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

            await asyncio.sleep(0.7)  # two more checks pass for the member: it stays
            await member.send_str(f'42{NS},7["typing",{{}}]')
            assert (await member.receive_str(timeout=5)).startswith(f"43{NS},7")
        metrics = server.service.api.state.metrics
        assert metrics.auth_timeouts._value.get() == 1


async def test_a_polling_session_that_never_connects_a_namespace_is_closed_after_the_timeout(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with (
        bounded_server(sqlite_url, tmp_path, auth_timeout_seconds=0.3) as server,
        httpx.AsyncClient(timeout=10) as http,
    ):
        base = f"{server.url}/socket.io/?EIO=4&transport=polling"
        eio_sid = json.loads((await http.get(base)).text[1:])["sid"]

        pending = await http.get(f"{base}&sid={eio_sid}")  # answered when the session ends

        assert pending.text == "1"  # Engine.IO CLOSE
        assert (await http.get(f"{base}&sid={eio_sid}")).status_code == 400
