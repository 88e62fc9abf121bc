"""The Socket.IO wire formats (parsers) a client may speak, chosen by the handshake's path.

`/socket.io/` speaks Socket.IO's default parser (JSON text); `/socket.io-msgpack/` speaks the
parser of the npm package `socket.io-msgpack-parser` (API.md §6): every Socket.IO packet is one
msgpack map `{type, nsp, data?, id?}` in one binary Engine.IO message. Both endpoints are one
Engine.IO and one Socket.IO server (one set of rooms); the codec is a property of each
Engine.IO session, fixed by the path of its first request (server.py keeps it by sid).

`MsgPackPacket` is python-socketio's (`socketio.msgpack_packet`) made to match what the npm
parser's decoder accepts, and to refuse what it would never send:

* encoding leaves `data` and `id` out when absent (the npm decoder refuses a DISCONNECT whose
  `data` is nil, so the client would see a parse error instead of "io server disconnect") and
  writes a missing namespace as "/"; values msgpack has no type for (a datetime, as orjson
  writes it for JSON) are written as their JSON form, so a payload is the same in both formats.
* decoding checks the map as the npm decoder does (type, nsp, id, data's shape per type); a
  failure is a malformed packet for the inbound gate. notepack.io's `undefined` (ext 0, which
  socket.io-client sends as the data of a CONNECT without auth) is read as JSON.stringify would
  have it (gone from a map, null in an array). Other ext types (a JS Date), bytes and non-string
  map keys are kept, so that a well-formed packet carrying them gets the gate's BAD_REQUEST
  (`json_compatible`) instead of silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack
import orjson
from socketio import packet as sio_packet

from studygroups.compat import SocketIOMsgPackPacket

MAX_DEPTH = 64  # nesting of a client's payload; the contract's are two or three deep


class MsgPackPacket(SocketIOMsgPackPacket):  # type: ignore[misc]
    """A Socket.IO packet in socket.io-msgpack-parser's format (see the module docstring)."""

    def encode(self) -> bytes:
        packet: dict[str, Any] = {"type": self.packet_type, "nsp": self.namespace or "/"}
        if self.data is not None:
            packet["data"] = self.data
        if self.id is not None:
            packet["id"] = self.id
        encoded: bytes = msgpack.packb(packet, default=_as_json)
        return encoded

    def decode(self, encoded_packet: Any) -> None:
        if not isinstance(encoded_packet, bytes):
            raise TypeError("a msgpack packet is a binary message")
        undefined: list[bool] = []

        def ext_hook(code: int, data: bytes) -> Any:
            if code == 0 and data == b"\x00":  # notepack.io's `undefined`
                undefined.append(True)
                return UNDEFINED
            return msgpack.ExtType(code, data)  # refused by the gate (json_compatible)

        packet = msgpack.unpackb(encoded_packet, raw=False, strict_map_key=False, ext_hook=ext_hook)
        if undefined:
            packet = _without_undefined(packet, 0)
        if not isinstance(packet, dict):
            raise ValueError("a msgpack packet is a map")
        kind, nsp, data, ack_id = (packet.get(k) for k in ("type", "nsp", "data", "id"))
        if type(kind) is not int or not sio_packet.CONNECT <= kind <= sio_packet.BINARY_ACK:
            raise ValueError("invalid packet type")
        if not isinstance(nsp, str):
            raise ValueError("invalid namespace")
        if ack_id is not None and (type(ack_id) is not int or ack_id < 0):
            raise ValueError("invalid packet id")
        if not _data_valid(kind, data):
            raise ValueError("invalid payload")
        self.packet_type, self.namespace, self.data, self.id = kind, nsp, data, ack_id


def _data_valid(kind: int, data: Any) -> bool:
    """The npm decoder's rule for the `data` of each packet type."""
    if kind == sio_packet.CONNECT:
        return data is None or isinstance(data, dict)
    if kind == sio_packet.DISCONNECT:
        return data is None
    if kind == sio_packet.CONNECT_ERROR:
        return isinstance(data, str | dict)
    return isinstance(data, list)


def _as_json(value: Any) -> Any:
    """What msgpack cannot write is written as JSON would have it (orjson's form)."""
    return orjson.loads(orjson.dumps(value))


UNDEFINED = object()  # notepack.io (the npm parser's msgpack) writes JS `undefined` as ext 0


def _without_undefined(value: Any, depth: int) -> Any:
    """`value` as JSON.stringify would have it: `undefined` leaves a map, is null in an array."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if isinstance(value, dict):
        return {
            key: _without_undefined(item, depth + 1)
            for key, item in value.items()
            if item is not UNDEFINED
        }
    if isinstance(value, list):
        return [
            None if item is UNDEFINED else _without_undefined(item, depth + 1) for item in value
        ]
    return value


def json_compatible(value: Any, depth: int = 0) -> bool:
    """True when `value` is something JSON could carry: a client speaking msgpack may not send
    what a JSON client cannot (bytes, maps with non-string keys), so both are handled alike."""
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, list):
        return all(json_compatible(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and json_compatible(item, depth + 1) for key, item in value.items()
        )
    return False


@dataclass(frozen=True)
class Codec:
    """One wire format: its name (logs, docs), its endpoint path and its packet class."""

    name: str
    path: str
    packet_class: type[Any]

    @property
    def binary(self) -> bool:
        """Every packet is a binary Engine.IO message (so bytes are no attachment)."""
        return not self.packet_class.uses_binary_events


JSON = Codec("json", "/socket.io/", sio_packet.Packet)
MSGPACK = Codec("msgpack", "/socket.io-msgpack/", MsgPackPacket)
CODECS = (JSON, MSGPACK)
PATHS = tuple(codec.path for codec in CODECS)


def codec_for_path(path: str) -> Codec:
    """The codec of a session whose handshake came to `path` (python-engineio serves every
    path under an endpoint's prefix, so the prefix decides); JSON for anything else."""
    if not path.endswith("/"):
        path += "/"
    for codec in CODECS:
        if path.startswith(codec.path):
            return codec
    return JSON
