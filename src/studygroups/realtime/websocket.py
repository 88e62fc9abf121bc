"""RFC 6455 WebSocket framing for the server side, without I/O: parse the upgrade request,
answer it, read client frames incrementally and build server frames.

Only what a Socket.IO server needs is supported: no extensions (permessage-deflate is declined
by not answering it), no subprotocols (one a client asks for is simply not selected: the
handshake answers without `Sec-WebSocket-Protocol`, RFC 6455 §4.2.2). Anything outside that is
reported as a `ProtocolError` carrying the close code to send.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qs

from studygroups.compat import apply_mask

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DATA_OPCODES = frozenset({TEXT, BINARY})
CONTROL_OPCODES = frozenset({CLOSE, PING, PONG})

NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
# A message in more pieces than this is refused: each piece costs a parse and a list slot, and
# an empty continuation frame adds no bytes to count against `max_size` (clients send messages
# whole; a fragmented one needs a handful).
MAX_FRAGMENTS = 1024

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class ProtocolError(Exception):
    """The peer broke the protocol; close the connection with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UpgradeRequest:
    """An HTTP request line and its headers (names lower-cased, repeated ones joined)."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string)

    def is_plain_websocket_upgrade(self) -> bool:
        """A GET asking for WebSocket version 13 with a valid key (subprotocols asked for are
        allowed: none is selected)."""
        headers = self.headers
        connection = {token.strip() for token in headers.get("connection", "").lower().split(",")}
        if (
            self.method != "GET"
            or headers.get("upgrade", "").lower() != "websocket"
            or "upgrade" not in connection
            or headers.get("sec-websocket-version") != "13"
        ):
            return False
        try:
            return len(base64.b64decode(headers.get("sec-websocket-key", ""), validate=True)) == 16
        except binascii.Error:
            return False


def parse_request(raw: bytes) -> UpgradeRequest | None:
    """The request in `raw` (request line, headers, blank line), or None if it is not one."""
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    head, separator, _ = text.partition("\r\n\r\n")
    if not separator:
        return None
    request_line, *header_lines = head.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    method, target, _version = parts
    path, _, query_string = target.partition("?")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon:
            return None
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return UpgradeRequest(method, path, query_string, headers)


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


def handshake_response(key: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
        "\r\n"
    ).encode("ascii")


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked server frame."""
    length = len(payload)
    first = 0x80 | opcode
    if length < 126:
        return bytes((first, length)) + payload
    if length < 65536:
        return bytes((first, 126)) + length.to_bytes(2, "big") + payload
    return bytes((first, 127)) + length.to_bytes(8, "big") + payload


def text_frame(text: str) -> bytes:
    return frame(TEXT, text.encode("utf-8"))


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(CLOSE, code.to_bytes(2, "big") + reason.encode("utf-8")[:120])


class FrameReader:
    """Turns the bytes a client sends into whole messages: (opcode, payload) pairs.

    Data messages (TEXT, BINARY) come reassembled from their fragments; control frames
    (CLOSE, PING, PONG) come as they arrive, also between fragments. Frames must be masked,
    reserved bits clear, and a message at most `max_size` bytes.
    """

    __slots__ = (
        "_fragments",
        "_fragments_opcode",
        "_fragments_size",
        "_needed",
        "_pending",
        "_pending_size",
        "max_size",
        "pieces",
    )

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        # Bytes of a frame not whole yet, kept as they came and joined once it is: joining them
        # at every read cost a copy of all of them per read (a client dripping a big frame a
        # byte at a time made the server copy it once per byte).
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._needed = 0  # bytes the frame under way needs in all (0: its header is not whole)
        self._fragments: list[bytes] | None = None
        self._fragments_opcode = 0
        self._fragments_size = 0
        # Fragments read that are not a message of their own (the caller counts them against
        # the socket's rate and sets this back to 0).
        self.pieces = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        if self._pending:
            self._pending.append(data)
            self._pending_size += len(data)
            if self._pending_size < self._needed:
                return []
            buffer = b"".join(self._pending)
            self._pending = []
        else:
            buffer = data
        end = len(buffer)
        position = 0
        needed = 0
        messages: list[tuple[int, bytes]] = []
        while end - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            if first & 0x70:
                raise ProtocolError(PROTOCOL_ERROR, "reserved bits must be clear")
            if not second & 0x80:
                raise ProtocolError(PROTOCOL_ERROR, "client frames must be masked")
            length = second & 0x7F
            header = 2
            if length == 126:
                header = 4
                if end - position < header:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
            elif length == 127:
                header = 10
                if end - position < header:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
            if first & 0x08 and (not first & 0x80 or length > 125):
                raise ProtocolError(PROTOCOL_ERROR, "control frames must be short and whole")
            if length > self.max_size:
                raise ProtocolError(MESSAGE_TOO_BIG, "message too big")
            start = position + header + 4
            stop = start + length
            if stop > end:
                needed = stop - position
                break
            mask = buffer[start - 4 : start]
            payload = apply_mask(buffer[start:stop], mask) if length else b""
            position = stop
            self._take(first & 0x80 != 0, first & 0x0F, payload, messages)
        if position < end:
            self._pending = [buffer[position:]]
            self._pending_size = end - position
            self._needed = needed
        return messages

    def _take(
        self, final: bool, opcode: int, payload: bytes, messages: list[tuple[int, bytes]]
    ) -> None:
        if opcode in CONTROL_OPCODES:
            messages.append((opcode, payload))
        elif opcode == CONTINUATION:
            if self._fragments is None:
                raise ProtocolError(PROTOCOL_ERROR, "continuation without a message")
            self._fragments_size += len(payload)
            if self._fragments_size > self.max_size:
                raise ProtocolError(MESSAGE_TOO_BIG, "message too big")
            if len(self._fragments) >= MAX_FRAGMENTS:
                raise ProtocolError(POLICY_VIOLATION, f"a message in over {MAX_FRAGMENTS} pieces")
            self.pieces += 1
            self._fragments.append(payload)
            if final:
                messages.append((self._fragments_opcode, b"".join(self._fragments)))
                self._fragments = None
        elif opcode in DATA_OPCODES:
            if self._fragments is not None:
                raise ProtocolError(PROTOCOL_ERROR, "a new message inside a fragmented one")
            if final:
                messages.append((opcode, payload))
            else:
                self._fragments = [payload]
                self._fragments_opcode = opcode
                self._fragments_size = len(payload)
        else:
            raise ProtocolError(PROTOCOL_ERROR, f"unknown opcode {opcode}")


def close_code(payload: bytes) -> int:
    """The status code of a CLOSE frame's payload (1005, "no status", when it has none)."""
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
