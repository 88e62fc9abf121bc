"""Room broadcasts without a task per recipient: encode once, write the same bytes to each socket.

python-socketio's `AsyncManager.emit` starts one asyncio task per recipient to call
`engineio.AsyncSocket.send`, which checks the ping timeout, logs, and queues the packet for the
socket's writer. For a room of 50 that is 50 tasks per event, which dominates a busy server.
Here the packet is encoded once. A recipient served by `NativeSocket` (engine.py) gets the same
pre-built WebSocket frame appended to its output of this loop turn; one still served by
python-engineio gets the packet on its outgoing queue, the queue `send` uses. Either way every
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


def encode_event(server: Any, namespace: str, event: str, data: Any) -> Any:
    """The Engine.IO MESSAGE packet of a Socket.IO EVENT, or None if it carries binary data."""
    if isinstance(data, tuple):
        arguments = [event, *data]
    elif data is None:
        arguments = [event]
    else:
        arguments = [event, data]
    encoded = server.packet_class(sio_packet.EVENT, namespace=namespace, data=arguments).encode()
    if isinstance(encoded, list):
        return None  # binary attachments: several frames, left to the library
    return eio_packet.Packet(eio_packet.MESSAGE, encoded)


def queue_to_all(
    server: Any, frame: Any, recipients: Iterable[tuple[str, str]], skip: Iterable[str] | None
) -> int:
    """Send the Engine.IO packet `frame` to every recipient's socket; the number reached."""
    skipped = set(skip or ())
    sockets = server.eio.sockets
    framed: bytes | None = None
    queued = 0
    for sid, eio_sid in recipients:
        if sid in skipped:
            continue
        socket = sockets.get(eio_sid)
        if socket is None or socket.closed:
            continue
        if isinstance(socket, NativeSocket):
            if framed is None:
                framed = packet_frame(frame)
            socket.write(framed)
        else:
            socket.queue.put_nowait(frame)
        queued += 1
    return queued
