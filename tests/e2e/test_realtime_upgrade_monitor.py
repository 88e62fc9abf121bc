"""A session that upgrades to WebSocket while python-engineio's monitor walks its sockets.

python-engineio's monitor (`AsyncServer._service_task`) takes a copy of `eio.sockets` and walks
it slowly: it sleeps between sockets, and a socket timing out on ping is closed there, which
awaits the application's disconnect (seconds on a starved server with hundreds of such
sockets). A long-polling session that upgrades meanwhile (realtime/upgrade.py) is still in that
copy as its retired polling socket; the monitor must not take the session's WebSocket out of
`eio.sockets` when it reaches it, or room broadcasts skip the page's socket for good while its
heartbeat keeps it open (the console's stalled page of docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import httpx

from tests.conftest import LiveServer, token
from tests.support import make_session

NS = "/study-groups"


class SlowToCheck:
    """A socket in the monitor's copy whose ping check takes until `release` is set, as a
    socket closed for its ping timeout does while the application handles its disconnect."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.closed = False
        self.closing = False
        self.checked = asyncio.Event()
        self.release = asyncio.Event()

    async def check_ping_timeout(self) -> bool:
        self.checked.set()
        await self.release.wait()
        return True


async def monitor_pass(eio: Any, first: SlowToCheck) -> asyncio.Task[None]:
    """python-engineio's monitor, started now and held at its `first` socket: its copy of the
    sockets is taken, with a short pause between sockets instead of the ping timeout spread
    over them."""
    ping_timeout = eio.ping_timeout
    eio.ping_timeout = 0.01
    try:
        task: asyncio.Task[None] = asyncio.ensure_future(eio._service_task())
        await asyncio.wait_for(first.checked.wait(), 5)
    finally:
        eio.ping_timeout = ping_timeout
    return task


async def next_packet(socket: aiohttp.ClientWebSocketResponse, prefix: str, timeout: float) -> str:
    """The next Engine.IO packet starting with `prefix` on a raw WebSocket (pings answered)."""
    while True:
        message = await socket.receive(timeout=timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        text = str(message.data)
        if text == "2":
            await socket.send_str("3")
        elif text.startswith(prefix):
            return text


async def event_of(socket: aiohttp.ClientWebSocketResponse, name: str, timeout: float) -> Any:
    """The data of the next `name` event on a raw WebSocket."""
    while True:
        text = await next_packet(socket, f"42{NS},", timeout)
        event, data = json.loads(text[len(f"42{NS},") :])
        if event == name:
            return data


async def test_a_session_upgraded_during_a_slow_monitor_pass_keeps_receiving_room_events(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    eio = server.service.sio.eio
    scenario = await make_session(rest, ["ana", "bo"])
    slow = SlowToCheck("slow-to-check")
    eio.sockets[slow.sid] = slow  # before bo's socket in the monitor's copy
    after = SlowToCheck("checked-after")
    after.release.set()
    base = f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling"
    monitor: asyncio.Task[None] | None = None
    try:
        async with httpx.AsyncClient(timeout=10) as http, aiohttp.ClientSession() as session:
            sid = json.loads((await http.get(base)).text[1:])["sid"]
            eio.sockets[after.sid] = after  # after bo's socket in the copy
            connect = f"40{NS}," + json.dumps({"token": token("bo")})
            assert (await http.post(f"{base}&sid={sid}", content=connect)).text == "OK"
            assert f"40{NS}," in (await http.get(f"{base}&sid={sid}")).text
            url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket&sid={sid}"
            async with session.ws_connect(url) as socket:
                await socket.send_str("2probe")
                assert (await socket.receive(timeout=5)).data == "3probe"
                monitor = await monitor_pass(eio, slow)

                await socket.send_str("5")  # the session moves onto the WebSocket
                join = json.dumps(["joinSession", {"sessionId": scenario.session_id}])
                await socket.send_str(f"42{NS},1{join}")
                joined = await next_packet(socket, f"43{NS},1", timeout=5)
                assert '"success":true' in joined

                slow.release.set()  # the monitor goes on to bo's retired polling socket
                await asyncio.wait_for(after.checked.wait(), 5)  # and past it

                await scenario.chat("ana", "after the monitor's pass")
                message = await event_of(socket, "chat.message", timeout=5)
                assert message["message"] == "after the monitor's pass"
    finally:
        slow.release.set()  # the server's own monitor may be waiting on it too
        if monitor is not None:
            monitor.cancel()
        eio.sockets.pop(slow.sid, None)
        eio.sockets.pop(after.sid, None)
