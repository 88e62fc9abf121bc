"""Room broadcasts without a task per recipient: encode once, write the same bytes to each socket.

python-socketio's `AsyncManager.emit` starts one asyncio task per recipient to call
`engineio.AsyncSocket.send`, which checks the ping timeout, logs, and queues the packet for the
socket's writer. For a room of 50 that is 50 tasks per event, which dominates a busy server.
Here the event is encoded once per codec (wire format, codecs.py) in use among the recipients:
once for the JSON sockets, once for the msgpack ones, lazily, never per recipient. A recipient
served by `NativeSocket` (engine.py) gets the same pre-built WebSocket frame of its codec
appended to its output of this loop turn; one still served by python-engineio gets the packet
on its outgoing queue, the queue `send` uses. Either way every
socket's packets (acks included) go out in the order they were produced, and either way what
waits for a socket is bounded: that queue is a `BoundedQueue` (bounds.py), which cuts the
socket off past SOCKET_MAX_BUFFERED_BYTES as the native path does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from studygroups.realtime.codecs import JSON, Codec
from studygroups.realtime.engine import NativeSocket, packet_frame


class FastJson:
    """json for python-socketio: orjson to encode (falling back to json for what orjson
    refuses, e.g. integers beyond 64 bits), the standard library to decode client input."""

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            return json.dumps(value, **kwargs)

    loads = staticmethod(json.loads)


class OutboundPacket(sio_packet.Packet):  # type: ignore[misc]
    """python-socketio's JSON packet for what the server sends itself (acks, CONNECT answers):
    the library's check for bytes walks the whole payload in Python (6 % of a reconnect's CPU,
    for the 50 events of a join ack's `missed`); what orjson encodes holds no bytes, and
    anything it refuses is checked the library's way."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        try:
            orjson.dumps(data)
        except TypeError:
            return bool(super().data_is_binary(data))
        return False


class EventFrames:
    """One Socket.IO EVENT, encoded at most once per codec, and only for codecs asked for: the
    Engine.IO packets for sockets python-engineio serves, the WebSocket bytes for native ones."""

    __slots__ = ("_arguments", "_frames", "_namespace", "_packets")

    def __init__(self, namespace: str, event: str, data: Any) -> None:
        if isinstance(data, tuple):
            self._arguments = [event, *data]
        elif data is None:
            self._arguments = [event]
        else:
            self._arguments = [event, data]
        self._namespace = namespace
        self._packets: dict[Codec, list[Any]] = {}
        self._frames: dict[Codec, bytes] = {}

    def packets(self, codec: Codec) -> list[Any]:
        """The Engine.IO MESSAGE packets of the event in `codec` (several for a JSON event
        with binary attachments, which this service never emits)."""
        packets = self._packets.get(codec)
        if packets is None:
            # binary=False: python-socketio would otherwise walk the whole payload looking for
            # bytes on every packet (a tenth of a busy cluster's CPU). Events here are JSON
            # data; should bytes ever be there, JSON refuses them and the library's check runs.
            pkt = codec.packet_class(
                sio_packet.EVENT, namespace=self._namespace, data=self._arguments, binary=False
            )
            try:
                encoded = pkt.encode()
            except TypeError:
                pkt = codec.packet_class(
                    sio_packet.EVENT, namespace=self._namespace, data=self._arguments
                )
                encoded = pkt.encode()
            parts = encoded if isinstance(encoded, list) else [encoded]
            packets = self._packets[codec] = [
                eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts
            ]
        return packets

    def frame(self, codec: Codec) -> bytes:
        """The WebSocket frame(s) of the event in `codec`, as `NativeSocket` writes them."""
        framed = self._frames.get(codec)
        if framed is None:
            # Framed from packets of their own: python-engineio caches a packet's first
            # encoding, and a binary packet encoded raw (for a WebSocket) would reach a
            # long-polling socket, which needs it in base64, as those cached raw bytes. So a
            # binary packet object is never shared between sockets; only its bytes are.
            framed = self._frames[codec] = b"".join(
                packet_frame(eio_packet.Packet(eio_packet.MESSAGE, pkt.data))
                for pkt in self.packets(codec)
            )
        return framed


def queue_to_all(
    server: Any,
    event: EventFrames,
    recipients: Iterable[tuple[str, str]],
    skip: Iterable[str] | None,
) -> int:
    """Send `event` to every recipient's socket, each in its session's codec; the number
    reached."""
    skipped = set(skip or ())
    sockets = server.eio.sockets
    codecs = server.codecs
    queued = 0
    for sid, eio_sid in recipients:
        if sid in skipped:
            continue
        socket = sockets.get(eio_sid)
        if socket is None or socket.closed:
            continue
        codec = codecs.get(eio_sid, JSON)
        if isinstance(socket, NativeSocket):
            socket.write(event.frame(codec))
        else:
            for pkt in event.packets(codec):
                if pkt.binary:  # one packet object each: see `EventFrames.frame`
                    pkt = eio_packet.Packet(eio_packet.MESSAGE, pkt.data)
                socket.queue.put_nowait(pkt)
        queued += 1
    return queued
