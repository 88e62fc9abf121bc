"""A room broadcast (realtime/fanout.py) encodes the event once per codec its recipients speak,
never once per recipient, and every recipient gets it in its own codec, on either path (a
native WebSocket's frame, or python-engineio's outgoing queue)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from typing import Any

import engineio
import msgpack
from engineio import packet as eio_packet

from studygroups.realtime import websocket as ws
from studygroups.realtime.codecs import JSON, MSGPACK, Codec
from studygroups.realtime.engine import NativeEngine, NativeSocket
from studygroups.realtime.fanout import EventFrames, queue_to_all
from tests.unit.test_engine import REQUEST, RecordingTransport

NS = "/study-groups"
encodes: Counter[str] = Counter()


def counting(codec: Codec) -> Codec:
    """`codec` whose packets count their encodings in `encodes`."""

    class Counted(codec.packet_class):  # type: ignore[name-defined,misc]
        def encode(self) -> Any:
            encodes[codec.name] += 1
            return super().encode()

    return replace(codec, packet_class=Counted)


class QueuedSocket:
    """A socket python-engineio serves: what is sent waits on its queue."""

    closed = False

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def received(self) -> list[Any]:
        return [self.queue.get_nowait().data for _ in range(self.queue.qsize())]


class FakeServer:
    def __init__(self) -> None:
        self.eio = engineio.AsyncServer(async_mode="asgi")
        self.codecs: dict[str, Codec] = {}


def native(server: FakeServer, sid: str) -> tuple[NativeSocket, RecordingTransport]:
    transport = RecordingTransport()
    socket = NativeSocket(NativeEngine(server.eio), set(), sid=sid)
    assert REQUEST is not None
    socket.start(transport, REQUEST, {})  # type: ignore[arg-type]
    transport.writes.clear()
    return socket, transport


async def test_a_room_broadcast_encodes_once_per_codec_in_use_and_not_once_per_recipient() -> None:
    encodes.clear()
    json_codec, msgpack_codec = counting(JSON), counting(MSGPACK)
    server = FakeServer()
    recipients = []
    queued: dict[str, QueuedSocket] = {}
    for n, codec in enumerate([json_codec, json_codec, msgpack_codec, msgpack_codec]):
        sid = f"queued-{n}"
        queued[sid] = server.eio.sockets[sid] = QueuedSocket()
        recipients.append((f"s-{sid}", sid))
        server.codecs[sid] = codec
    natives = {}
    for n, codec in enumerate([json_codec, json_codec, msgpack_codec, msgpack_codec]):
        sid = f"native-{n}"
        natives[sid] = native(server, sid)
        recipients.append((f"s-{sid}", sid))
        server.codecs[sid] = codec
    event = EventFrames(NS, "chat.message", {"seq": 7, "text": "hi"})

    reached = queue_to_all(server, event, recipients, skip=None)
    await asyncio.sleep(0)  # the natives' writes of this loop turn leave

    assert reached == 8
    assert encodes == {"json": 1, "msgpack": 1}
    as_json = '2/study-groups,["chat.message",{"seq":7,"text":"hi"}]'
    as_msgpack = {"type": 2, "nsp": NS, "data": ["chat.message", {"seq": 7, "text": "hi"}]}
    assert [queued[f"queued-{n}"].received() for n in range(2)] == [[as_json], [as_json]]
    for n in (2, 3):
        [raw] = queued[f"queued-{n}"].received()
        assert msgpack.unpackb(raw) == as_msgpack
    json_frame = ws.text_frame("4" + as_json)
    assert [natives[f"native-{n}"][1].writes for n in range(2)] == [[json_frame], [json_frame]]
    msgpack_frame = ws.frame(ws.BINARY, msgpack.packb(as_msgpack))
    assert [natives[f"native-{n}"][1].writes for n in (2, 3)] == [[msgpack_frame]] * 2


def test_a_codec_no_recipient_speaks_is_never_encoded() -> None:
    encodes.clear()
    server = FakeServer()
    json_codec = counting(JSON)
    counting(MSGPACK)  # would count too, if it were ever asked for
    for sid in ("a", "b"):
        server.eio.sockets[sid] = QueuedSocket()
        server.codecs[sid] = json_codec

    event = EventFrames(NS, "userJoined", {"userId": "ana"})
    reached = queue_to_all(server, event, [("s-a", "a"), ("s-b", "b")], skip=None)

    assert reached == 2
    assert encodes == {"json": 1}


def test_skipped_closed_and_gone_sockets_get_nothing() -> None:
    server = FakeServer()
    for sid in ("kept", "skipped", "closed"):
        server.eio.sockets[sid] = QueuedSocket()
    server.eio.sockets["closed"].closed = True
    recipients = [(f"s-{sid}", sid) for sid in ("kept", "skipped", "closed", "gone")]

    reached = queue_to_all(server, EventFrames(NS, "x", None), recipients, skip=["s-skipped"])

    assert reached == 1
    assert [server.eio.sockets[sid].queue.qsize() for sid in ("kept", "skipped", "closed")] == [
        1,
        0,
        0,
    ]


def test_every_python_engineio_socket_gets_a_binary_packet_object_of_its_own() -> None:
    """python-engineio caches a packet's first encoding: a WebSocket's raw bytes must never be
    what a long-polling socket (base64) sends."""
    server = FakeServer()
    for sid in ("ws", "polling"):
        server.eio.sockets[sid] = QueuedSocket()
        server.codecs[sid] = MSGPACK
    queue_to_all(server, EventFrames(NS, "x", 1), [("a", "ws"), ("b", "polling")], None)

    first = server.eio.sockets["ws"].queue.get_nowait()
    second = server.eio.sockets["polling"].queue.get_nowait()
    assert first is not second
    assert first.encode() == second.data  # raw for a WebSocket
    assert second.encode(b64=True).startswith("b")  # base64 for long-polling
    assert isinstance(first, eio_packet.Packet)


def test_an_event_of_json_data_is_one_plain_event_packet() -> None:
    [only] = EventFrames(NS, "chat.typing", {"userId": "ana", "list": [1, {"a": None}]}).packets(
        JSON
    )

    assert only.data == '2/study-groups,["chat.typing",{"userId":"ana","list":[1,{"a":null}]}]'


def test_an_event_with_bytes_in_its_data_still_leaves_as_a_binary_event_with_its_attachment() -> (
    None
):
    header, attachment = EventFrames(NS, "x", {"blob": b"\x01\x02"}).packets(JSON)

    assert header.data.startswith("51-/study-groups,")
    assert '{"_placeholder":true,"num":0}' in header.data
    assert attachment.data == b"\x01\x02"
