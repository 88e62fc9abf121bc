"""A bare Engine.IO 4 client that sends exactly the frames it is given, over a WebSocket or
long-polling: what an attacker's script sends, byte for byte.

`send` sends one Engine.IO MESSAGE (a Socket.IO packet as text, or a binary attachment);
`send_engineio` sends a raw Engine.IO packet, well-formed or not. `ack(id)` waits for the ack of
that id, recording every event received before it: the server writes a socket's packets in
order, so when the ack is back everything sent to the socket before it has been recorded (the
same round trip as `Peer.settle`). Pings are answered; a closed connection raises `Closed`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections import deque
from typing import Any

import aiohttp
import httpx

from tests.conftest import LiveServer, token

NS = "/study-groups"
WAIT = 10.0
SEPARATOR = "\x1e"


class Closed(Exception):
    """The server closed the connection."""


class RawClient:
    """What both transports share: namespace login, acks and the events heard meanwhile."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._next_id = 100

    async def send(self, message: str | bytes) -> None:
        raise NotImplementedError

    async def send_engineio(self, packet: str) -> None:
        raise NotImplementedError

    async def receive(self) -> str:
        """The next Socket.IO packet the server sent (an Engine.IO MESSAGE's text)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def login(self, user: str) -> None:
        await self.send(f"0{NS}," + json.dumps({"token": token(user)}))
        async with asyncio.timeout(WAIT):
            while not (await self.receive()).startswith(f"0{NS},{{"):
                pass

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def ack(self, ack_id: int) -> Any:
        """The first argument of the server's ack `ack_id`; events before it are recorded."""
        prefix = f"3{NS},{ack_id}["
        async with asyncio.timeout(WAIT):
            while True:
                packet = await self.receive()
                if packet.startswith(prefix):
                    answer = json.loads(packet[len(prefix) - 1 :])
                    return answer[0] if answer else None
                if packet.startswith(f"2{NS},["):
                    name, *args = json.loads(packet[len(NS) + 2 :])
                    self.events.append((name, args[0] if args else None))

    async def call(self, event: str, data: Any) -> Any:
        """Emit `event` with an ack id and return the ack."""
        ack_id = self.new_id()
        await self.send(f"2{NS},{ack_id}" + json.dumps([event, data]))
        return await self.ack(ack_id)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    async def wait_closed(self) -> None:
        """Read until the server closes the connection."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    await self.receive()
        except Closed:
            return


class WebSocketClient(RawClient):
    def __init__(self, http: aiohttp.ClientSession, socket: aiohttp.ClientWebSocketResponse):
        super().__init__()
        self._http = http
        self._socket = socket

    @classmethod
    async def open(cls, live: LiveServer) -> WebSocketClient:
        http = aiohttp.ClientSession()
        url = f"ws://127.0.0.1:{live.port}/socket.io/?EIO=4&transport=websocket"
        socket = await http.ws_connect(url, max_msg_size=0)
        opened = await socket.receive_str(timeout=WAIT)
        assert opened.startswith("0"), opened
        return cls(http, socket)

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self._socket.send_bytes(message)
        else:
            await self._socket.send_str("4" + message)

    async def send_engineio(self, packet: str) -> None:
        await self._socket.send_str(packet)

    async def receive(self) -> str:
        while True:
            message = await self._socket.receive(timeout=WAIT)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise Closed(str(message.type))
            text = str(message.data)
            if text == "2":
                await self._socket.send_str("3")
            elif text == "1":
                raise Closed("Engine.IO CLOSE")
            elif text.startswith("4"):
                return text[1:]

    async def close(self) -> None:
        await self._socket.close()
        await self._http.close()


class PollingClient(RawClient):
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        super().__init__()
        self._http = http
        self._url = url
        self._inbox: deque[str] = deque()
        self._closed = False

    @classmethod
    async def open(cls, live: LiveServer) -> PollingClient:
        base = f"{live.url}/socket.io/?EIO=4&transport=polling"
        http = httpx.AsyncClient(timeout=WAIT * 4)
        opened = (await http.get(base)).text
        assert opened.startswith("0"), opened
        return cls(http, f"{base}&sid={json.loads(opened[1:])['sid']}")

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self.send_engineio("b" + base64.b64encode(message).decode("ascii"))
        else:
            await self.send_engineio("4" + message)

    async def send_engineio(self, packet: str) -> None:
        await self.post(packet.encode("utf-8"))

    async def post(self, body: bytes) -> None:
        """One POST with exactly this body (several packets joined by \\x1e, or garbage)."""
        response = await self._http.post(self._url, content=body)
        if response.status_code != 200:
            raise Closed(f"POST answered {response.status_code}")

    async def poll(self, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """One long-polling GET as it is answered: status and body."""
        response = await self._http.get(self._url, headers=headers)
        return response.status_code, response.text

    async def receive(self) -> str:
        while not self._inbox:
            if self._closed:
                raise Closed("Engine.IO CLOSE")
            response = await self._http.get(self._url)
            if response.status_code != 200:
                raise Closed(f"GET answered {response.status_code}")
            for packet in response.text.split(SEPARATOR):
                if packet == "2":
                    await self.send_engineio("3")
                elif packet == "1":
                    self._closed = True
                elif packet.startswith("4"):
                    self._inbox.append(packet[1:])
        return self._inbox.popleft()

    async def close(self) -> None:
        if self._http.is_closed:
            return
        if not self._closed:
            with contextlib.suppress(Closed):
                await self.send_engineio("1")
        await self._http.aclose()


async def open_raw(live: LiveServer, transport: str) -> RawClient:
    if transport == "polling":
        return await PollingClient.open(live)
    return await WebSocketClient.open(live)
