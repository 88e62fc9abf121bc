"""What an attacker's script sends to /socket.io-msgpack/, byte for byte, on every path a frame
can take (the native WebSocket, python-engineio's WebSocket, long-polling): malformed packets
are dropped, counted and logged once, as for JSON, and the socket stays usable; payload values
JSON cannot carry (bytes, non-string keys, ext types) are refused with BAD_REQUEST and change
nothing; unknown events and floods are refused as for JSON."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgpack
import pytest

from tests.conftest import LiveServer, make_settings, token
from tests.e2e.clients import NEVER_JOINED, is_error
from tests.e2e.harness import PATHS, LiveHarness, harness_on
from tests.e2e.raw import NS, WAIT, Closed
from tests.e2e.test_security_frames import TIGHT, server_log
from tests.support import make_session

ENDPOINT = "/socket.io-msgpack/?EIO=4"


class MsgpackRaw:
    """A bare Engine.IO 4 client of the msgpack endpoint: Socket.IO packets are msgpack maps in
    binary messages. `send_bytes` sends any bytes as one binary message."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._next_id = 100

    async def send_bytes(self, message: bytes) -> None:
        raise NotImplementedError

    async def send_text(self, message: str) -> None:
        """A text Engine.IO MESSAGE (what a JSON client would send)."""
        raise NotImplementedError

    async def receive(self) -> dict[str, Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def send(self, packet: dict[str, Any]) -> None:
        await self.send_bytes(msgpack.packb(packet))

    async def login(self, user: str) -> None:
        await self.send({"type": 0, "nsp": NS, "data": {"token": token(user)}})
        async with asyncio.timeout(WAIT):
            while (await self.receive()).get("type") != 0:
                pass

    async def call_raw(self, packet: bytes, ack_id: int) -> Any:
        """Send `packet` (built with ack id `ack_id`) and return the ack's first argument."""
        await self.send_bytes(packet)
        async with asyncio.timeout(WAIT):
            while True:
                answer = await self.receive()
                if answer["type"] == 3 and answer.get("id") == ack_id:
                    return answer["data"][0]
                if answer["type"] == 2:
                    self.events.append((answer["data"][0], answer["data"][1:]))

    async def call(self, event: str, data: Any) -> Any:
        self._next_id += 1
        packet = {"type": 2, "nsp": NS, "id": self._next_id, "data": [event, data]}
        return await self.call_raw(msgpack.packb(packet), self._next_id)

    async def wait_closed(self) -> None:
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    await self.receive()
        except Closed:
            return


class WebSocketMsgpack(MsgpackRaw):
    def __init__(self, http: aiohttp.ClientSession, socket: aiohttp.ClientWebSocketResponse):
        super().__init__()
        self._http, self._socket = http, socket

    @classmethod
    async def open(cls, live: LiveServer) -> WebSocketMsgpack:
        http = aiohttp.ClientSession()
        socket = await http.ws_connect(f"ws://127.0.0.1:{live.port}{ENDPOINT}&transport=websocket")
        assert (await socket.receive_str(timeout=WAIT)).startswith("0")
        return cls(http, socket)

    async def send_bytes(self, message: bytes) -> None:
        await self._socket.send_bytes(message)

    async def send_text(self, message: str) -> None:
        await self._socket.send_str("4" + message)

    async def receive(self) -> dict[str, Any]:
        while True:
            message = await self._socket.receive(timeout=WAIT)
            if message.type == aiohttp.WSMsgType.BINARY:
                decoded: dict[str, Any] = msgpack.unpackb(message.data)
                return decoded
            if message.type != aiohttp.WSMsgType.TEXT:
                raise Closed(str(message.type))
            if message.data == "2":
                await self._socket.send_str("3")
            elif message.data == "1":
                raise Closed("Engine.IO CLOSE")

    async def close(self) -> None:
        await self._socket.close()
        await self._http.close()


class PollingMsgpack(MsgpackRaw):
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        super().__init__()
        self._http, self._url = http, url
        self._inbox: deque[dict[str, Any]] = deque()
        self._closed = False

    @classmethod
    async def open(cls, live: LiveServer) -> PollingMsgpack:
        base = f"{live.url}{ENDPOINT}&transport=polling"
        http = httpx.AsyncClient(timeout=WAIT * 4)
        opened = (await http.get(base)).text
        assert opened.startswith("0"), opened
        sid = json.loads(opened[1:])["sid"]
        return cls(http, f"{base}&sid={sid}")

    async def _post(self, body: str) -> None:
        response = await self._http.post(self._url, content=body.encode())
        if response.status_code != 200:
            raise Closed(f"POST answered {response.status_code}")

    async def send_bytes(self, message: bytes) -> None:
        await self._post("b" + base64.b64encode(message).decode("ascii"))

    async def send_text(self, message: str) -> None:
        await self._post("4" + message)

    async def receive(self) -> dict[str, Any]:
        while not self._inbox:
            if self._closed:
                raise Closed("Engine.IO CLOSE")
            response = await self._http.get(self._url)
            if response.status_code != 200:
                raise Closed(f"GET answered {response.status_code}")
            for packet in response.text.split("\x1e"):
                if packet == "2":
                    await self._post("3")
                elif packet == "1":
                    self._closed = True
                elif packet.startswith("b"):
                    self._inbox.append(msgpack.unpackb(base64.b64decode(packet[1:])))
        return self._inbox.popleft()

    async def close(self) -> None:
        if not self._closed:
            with contextlib.suppress(Closed, httpx.HTTPError):
                await self._post("1")
        await self._http.aclose()


async def open_msgpack(live: LiveServer, transport: str) -> MsgpackRaw:
    opener = PollingMsgpack if transport == "polling" else WebSocketMsgpack
    return await opener.open(live)


Harness = LiveHarness[MsgpackRaw]


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {}


@pytest.fixture(params=PATHS)
async def harness(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_url: str,
    tmp_path: Path,
    overrides: dict[str, Any],
) -> AsyncIterator[Harness]:
    settings = make_settings(sqlite_url, tmp_path, **overrides)
    async with harness_on(request.param, settings, open_msgpack, monkeypatch) as harness:
        yield harness


MALFORMED = (
    b"",
    b"\xc1",  # never used in msgpack
    b"\x93\x02\xad/study-groups\x90",  # an array, not a map
    msgpack.packb("2/study-groups,[]"),
    msgpack.packb({"type": "2", "nsp": NS, "data": ["leaveSession", {}]}),
    msgpack.packb({"type": 2, "nsp": 7, "data": ["leaveSession", {}]}),
    msgpack.packb({"type": 2, "nsp": NS, "data": {"not": "a list"}}),
    msgpack.packb({"type": 2, "nsp": NS, "id": "1", "data": ["leaveSession", {}]}),
    msgpack.packb({"type": 4, "nsp": NS, "data": 5}),  # a CONNECT_ERROR, and a wrong one
    b"\x83\xa4type\xd4\x05\x00\xa3nsp\xa1/\xa4data\x90",  # an ext type as the packet type
    b"\xdd\xff\xff\xff\xff",  # an array declaring 4 billion items
    b"\x91" * 3000 + b"\xc0",  # nested 3000 deep
    msgpack.packb({"type": 2, "nsp": NS, "data": []}) + b"\xc0",  # trailing bytes
    # 200,000 empty arrays in 200 kB: each value cost its decoding and its check (2.4 s a MB)
    msgpack.packb({"type": 2, "nsp": NS, "data": ["leaveSession", [[]] * 200_000]}),
)


async def test_malformed_msgpack_packets_are_counted_and_logged_once_and_the_socket_goes_on(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cy = await harness.raw()
    with server_log(caplog) as records:
        for packet in MALFORMED:
            await cy.send_bytes(packet)
        await cy.send_text(f'2{NS},["leaveSession",{{}}]')  # JSON text on the msgpack endpoint
        await cy.login("cy")
        still_served = await cy.call("leaveSession", {"sessionId": NEVER_JOINED})

    assert still_served["success"] is True
    assert not [r for r in records if r.exc_info or "Traceback" in r.getMessage()]
    assert not [r for r in records if r.levelno >= logging.ERROR]
    warnings = [
        r
        for r in records
        if r.levelno == logging.WARNING and "served by python-engineio" not in r.getMessage()
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "malformed" in warnings[0].getMessage()
    counted = await harness.metric('studygroups_socket_packets_refused_total{reason="malformed"}')
    assert counted == len(MALFORMED) + 1  # and the text message


async def test_payload_values_json_cannot_carry_are_refused_with_bad_request_and_change_nothing(
    harness: Harness,
) -> None:
    scenario = await make_session(harness.rest, ["ana", "cy"])
    ana = await harness.peers.joined("ana", scenario.session_id)
    cy = await harness.raw("cy")
    session = scenario.session_id
    notepack_date = msgpack.ExtType(0, b"\x00" * 8)  # a JS Date, as notepack.io writes it

    answers = [
        await cy.call("joinSession", {"sessionId": session.encode()}),
        await cy.call("joinSession", {"sessionId": session, 1: "x"}),
        await cy.call("joinSession", {"sessionId": session, "lastSeq": notepack_date}),
        await cy.call("joinSession", {"sessionId": session, "lastSeq": msgpack.Timestamp(0)}),
        await cy.call("typing", {"sessionId": session, "isTyping": b"\x01"}),
        await cy.call("noSuchEvent", {}),
    ]
    joined = await cy.call("joinSession", {"sessionId": session})
    await ana.wait_for("userJoined")

    assert [is_error(answer, "BAD_REQUEST") for answer in answers] == [True] * 6
    assert joined["success"] is True
    assert [e["userId"] for e in ana.of("userJoined")] == ["cy"]  # only the valid join counted
    assert ana.of("chat.typing") == []
    refused = await harness.metric('studygroups_socket_packets_refused_total{reason="binary"}')
    assert refused == 5


@pytest.mark.parametrize("overrides", [TIGHT])
async def test_a_flooding_msgpack_socket_is_rate_limited_then_disconnected_while_others_go_on(
    harness: Harness,
) -> None:
    scenario = await make_session(harness.rest, ["ana", "bo", "cy"])
    bo = await harness.peers.joined("bo", scenario.session_id)
    cy = await harness.raw("cy")  # the namespace CONNECT took one of its 6 tokens
    for _ in range(5):
        assert (await cy.call("leaveSession", {"sessionId": NEVER_JOINED}))["success"]

    limited = await cy.call("joinSession", {"sessionId": scenario.session_id})
    try:
        for _ in range(40):
            await cy.send({"type": 2, "nsp": NS, "data": ["leaveSession", {}]})
    except Closed:
        pass  # long-polling: the POST after the disconnect is refused
    await cy.wait_closed()
    await bo.settle()

    assert is_error(limited, "RATE_LIMITED")
    assert bo.connected
    assert bo.of("userJoined") == []
    assert await harness.metric("studygroups_socket_flood_disconnects_total") == 1
