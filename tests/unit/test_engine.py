"""The native Engine.IO WebSocket (realtime/engine.py) on a recording transport: writes of a loop
turn leave as one, in order; a client that stops reading is cut off; closing ends cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import engineio

from studygroups.metrics import Metrics
from studygroups.realtime import websocket as ws
from studygroups.realtime.engine import NativeEngine, NativeSocket
from studygroups.realtime.inbound import InboundGate, InboundLimits

REQUEST = ws.parse_request(
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
    b"host: example.test\r\nconnection: Upgrade\r\nupgrade: websocket\r\n"
    b"sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


class RecordingTransport:
    def __init__(self, buffered: int = 0) -> None:
        self.writes: list[bytes] = []
        self.buffered = buffered
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True


class FailingTransport(RecordingTransport):
    """A transport whose writes raise, as a broken connection's may."""

    def write(self, data: bytes) -> None:
        raise RuntimeError("the handle is closed")


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`, a few heartbeats at most."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def opened(
    transport: RecordingTransport,
    handlers: dict[str, Any] | None = None,
    engine: NativeEngine | None = None,
    **options: Any,
) -> tuple[NativeEngine, NativeSocket]:
    if engine is None:
        eio = engineio.AsyncServer(async_mode="asgi", **options)
        eio.handlers.update(handlers or {})
        engine = NativeEngine(eio)
    socket = NativeSocket(engine, set())
    assert REQUEST is not None
    socket.start(transport, REQUEST, {})  # type: ignore[arg-type]
    await asyncio.sleep(0.01)  # the connect handler runs
    transport.writes.clear()
    return engine, socket


async def test_the_handshake_answer_and_the_open_packet_leave_in_one_write() -> None:
    transport = RecordingTransport()
    eio = engineio.AsyncServer(async_mode="asgi")
    socket = NativeSocket(NativeEngine(eio), set())
    assert REQUEST is not None

    socket.start(transport, REQUEST, {})  # type: ignore[arg-type]

    [written] = transport.writes
    head, _, body = written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert body[2:3] == b"0"  # the Engine.IO OPEN packet, in a text frame
    assert eio.sockets[socket.sid] is socket


async def test_frames_of_one_loop_turn_leave_as_one_write_in_their_order() -> None:
    transport = RecordingTransport()
    _, socket = await opened(transport)

    socket.write(b"one")
    socket.write(b"two")
    socket.write(b"three")
    assert transport.writes == []
    await asyncio.sleep(0)

    assert transport.writes == [b"onetwothree"]


async def test_a_client_that_stops_reading_is_cut_off_once_its_backlog_passes_the_limit() -> None:
    transport = RecordingTransport(buffered=5 * 1024 * 1024)
    _, socket = await opened(transport)

    socket.write(b"event")
    await asyncio.sleep(0)

    assert transport.aborted


async def test_a_transport_that_fails_to_write_is_aborted_and_the_others_still_get_theirs() -> None:
    engine, broken = await opened(RecordingTransport())
    healthy = RecordingTransport()
    _, socket = await opened(healthy, engine=engine)
    broken._transport = FailingTransport()  # type: ignore[assignment]  # broke since it opened

    broken.write(b"event")
    socket.write(b"event")
    await asyncio.sleep(0)
    socket.write(b"next")
    await asyncio.sleep(0)

    assert healthy.writes == [b"event", b"next"]
    assert broken.closing
    assert broken.sid not in engine.eio.sockets


async def test_a_socket_the_session_no_longer_reaches_is_closed_at_its_next_heartbeat() -> None:
    reasons: list[str] = []

    async def disconnected(sid: str, reason: str) -> None:
        reasons.append(reason)

    transport = RecordingTransport()
    engine, socket = await opened(transport, {"disconnect": disconnected}, ping_interval=0.01)
    del engine.eio.sockets[socket.sid]  # as python-engineio's monitor once did (upgrade.py)
    socket.data_received(ws_client_text("3"))  # the client answers the heartbeat

    await until(lambda: transport.closed)

    assert transport.writes[-2:] == [ws.text_frame("1"), ws.close_frame(ws.GOING_AWAY)]
    assert reasons == [engine.eio.reason.SERVER_DISCONNECT]


async def test_a_socket_the_session_still_reaches_is_pinged_at_its_heartbeat() -> None:
    transport = RecordingTransport()
    _, socket = await opened(transport, ping_interval=0.01)
    socket.data_received(ws_client_text("3"))  # the client answers the heartbeat

    await until(lambda: ws.text_frame("2") in transport.writes)

    assert not transport.closed
    assert not socket.closing


async def test_closing_tells_the_application_sends_close_and_ends_the_websocket() -> None:
    reasons: list[str] = []

    async def disconnected(sid: str, reason: str) -> None:
        reasons.append(reason)

    transport = RecordingTransport()
    engine, socket = await opened(transport, {"disconnect": disconnected})
    socket.write(b"pending")

    await socket.close()

    assert reasons == [engine.eio.reason.SERVER_DISCONNECT]
    assert transport.closed
    assert socket.sid not in engine.eio.sockets
    assert transport.writes == [
        b"pending" + ws.text_frame("1"),  # what was queued, then Engine.IO's CLOSE packet
        ws.close_frame(ws.NORMAL_CLOSURE),
    ]


async def test_messages_before_the_connect_handler_finished_are_handled_after_it() -> None:
    order: list[str] = []
    connect_may_finish = asyncio.Event()

    async def connect(sid: str, environ: Any) -> None:
        await connect_may_finish.wait()
        order.append("connect")

    async def message(sid: str, data: Any) -> None:
        order.append(f"message {data}")

    eio = engineio.AsyncServer(async_mode="asgi")
    eio.handlers.update({"connect": connect, "message": message})
    socket = NativeSocket(NativeEngine(eio), set())
    assert REQUEST is not None
    socket.start(RecordingTransport(), REQUEST, {})  # type: ignore[arg-type]

    socket.data_received(ws_client_text("4hello"))
    await asyncio.sleep(0.01)
    assert order == []
    connect_may_finish.set()
    await asyncio.sleep(0.01)

    assert order == ["connect", "message hello"]


def ws_client_text(text: str) -> bytes:
    payload = text.encode()
    return bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload


def client_frame(opcode: int, payload: bytes, *, final: bool = True) -> bytes:
    """A masked frame with a zero mask (the payload stays readable), as clients must send."""
    assert len(payload) < 126
    return bytes(((0x80 if final else 0) | opcode, 0x80 | len(payload))) + b"\0\0\0\0" + payload


async def gated(transport: RecordingTransport) -> tuple[NativeEngine, NativeSocket, list[str]]:
    """A socket whose inbound bucket holds 3 tokens and is flooding after 5 refusals."""
    reasons: list[str] = []

    async def disconnected(sid: str, reason: str) -> None:
        reasons.append(reason)

    eio = engineio.AsyncServer(async_mode="asgi")
    eio.handlers["disconnect"] = disconnected
    eio.gate = InboundGate(InboundLimits(0.001, 3, 5), Metrics())
    engine, socket = await opened(transport, engine=NativeEngine(eio))
    return engine, socket, reasons


async def test_a_socket_flooding_with_noops_pings_and_control_frames_is_disconnected() -> None:
    for flood in (
        client_frame(ws.TEXT, b"6"),  # Engine.IO noop
        client_frame(ws.TEXT, b"2probe"),  # Engine.IO ping
        client_frame(ws.PING, b"hi"),  # WebSocket ping
    ):
        transport = RecordingTransport()
        engine, socket, reasons = await gated(transport)

        socket.data_received(flood * 20)
        await asyncio.sleep(0.01)

        assert reasons == [engine.eio.reason.SERVER_DISCONNECT], flood
        assert transport.writes[-1] == ws.close_frame(ws.POLICY_VIOLATION)
        pongs = [w for w in transport.writes if w == ws.frame(ws.PONG, b"hi")]
        assert len(pongs) <= 3  # only what the bucket held was answered


async def test_empty_continuation_frames_count_against_the_socket_and_end_in_a_disconnect() -> None:
    transport = RecordingTransport()
    engine, socket, reasons = await gated(transport)

    socket.data_received(
        client_frame(ws.TEXT, b"", final=False)
        + client_frame(ws.CONTINUATION, b"", final=False) * 20
    )
    await asyncio.sleep(0.01)

    assert reasons == [engine.eio.reason.SERVER_DISCONNECT]


async def test_a_message_in_more_pieces_than_any_client_sends_closes_the_connection() -> None:
    transport = RecordingTransport()
    _, socket = await opened(transport)  # no bucket: only the reader's own bound applies
    pieces = client_frame(ws.CONTINUATION, b"", final=False) * ws.MAX_FRAGMENTS

    socket.data_received(client_frame(ws.TEXT, b"4", final=False) + pieces)
    await asyncio.sleep(0.01)

    assert socket.closing
    assert transport.writes[-1] == ws.close_frame(ws.POLICY_VIOLATION)
