"""Engine.IO packets from clients, checked before python-engineio decodes them.

python-engineio trusts what a client sends: a WebSocket frame that is not an Engine.IO packet
(`x`, an unknown type `9`, bad base64 after `b`) escapes its WebSocket loop as an "Exception in
ASGI application" traceback, and a long-polling POST with such a packet (or invalid UTF-8, or
more packets than it decodes) is logged as "post request handler error" with a traceback, for
every request. Here such packets are dropped, counted and reported once per connection through
the `InboundGate` (inbound.py) before python-engineio sees them. Well-formed packets pass
unchanged. The native WebSocket path (engine.py) never hands python-engineio a frame to decode.

python-engineio internals this module relies on (see also server.py):

* `engineio.AsyncServer._async`, the async driver's table: this server's own copy replaces
  `translate_request` (to check POST bodies) and `websocket` (to check WebSocket frames).
* `engineio.async_drivers.asgi.translate_request` and `.WebSocket` (subclassed), and that the
  WebSocket's handler is a bound method of the `AsyncSocket` (for the sid).
* `engineio.payload.Payload.max_decode_packets` and the payload's `d=` JSONP form.
"""

from __future__ import annotations

import asyncio
import binascii
import weakref
from base64 import b64decode
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import engineio
import engineio.async_socket
from engineio import packet as eio_packet

from studygroups.compat import engineio_asgi as eio_asgi
from studygroups.compat import engineio_payload as eio_payload
from studygroups.realtime.inbound import InboundGate, Verdict, sample

# Engine.IO packet types a client may send (open .. noop); "b" starts a base64 binary message.
PACKET_TYPES = frozenset("0123456")
SEPARATOR = "\x1e"


def packet_problem(packet: str | bytes) -> str | None:
    """Why python-engineio could not decode this packet from a client, or None if it can."""
    if isinstance(packet, bytes):
        return None  # a binary message; Socket.IO decides what it means
    if not packet:
        return "an empty packet"
    kind = packet[0]
    if kind == "b":
        try:
            b64decode(packet[1:])
        except (binascii.Error, ValueError):
            return "invalid base64 in a binary packet"
        return None
    if kind not in PACKET_TYPES:
        return f"unknown Engine.IO packet type {sample(packet)}"
    return None


def _not_in_a_post(packet: str) -> str | None:
    """A packet no client sends by long-polling (an OPEN, a PING, a NOOP): python-engineio
    answers one by closing the session and waiting for the client to read the CLOSE, so the
    POST that brought it hung until the session's end."""
    kind = packet[:1]
    if kind in ("0", "2", "6"):
        return f"an Engine.IO packet of type {kind} in a long-polling POST"
    return None


def checked_payload(body: bytes) -> tuple[bytes, str | None]:
    """A long-polling POST body without the packets python-engineio could not decode, and why
    some were dropped (None when none were)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return b"", "a payload that is not UTF-8"
    if not text:
        return body, None
    if text.startswith("d="):  # JSONP form, which python-engineio unwraps itself
        values = parse_qs(text).get("d")
        if not values:
            return b"", "an empty JSONP payload"
        text = values[0]
    packets = text.split(SEPARATOR)
    if len(packets) > eio_payload.Payload.max_decode_packets:
        return b"", f"{len(packets)} packets in one payload"
    kept: list[str] = []
    problem: str | None = None
    for packet in packets:
        why = packet_problem(packet) or _not_in_a_post(packet)
        if why is None:
            kept.append(packet)
        else:
            problem = problem or why
    if problem is None:
        return body, None
    return SEPARATOR.join(kept).encode("utf-8"), problem


# Engine.IO packets a client sends that python-socketio never sees: ping, pong, upgrade, noop.
ENGINE_ONLY = frozenset("2356")


class CheckedEngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """python-engineio's server, with client input checked first (see the module docstring)."""

    gate: InboundGate | None = None  # set by the Socket.IO server that owns this one
    # uvicorn is shutting down (set by engine.py's sockets when told so): the sockets closing
    # now are a restart, not their users leaving (namespace.py `on_disconnect`)
    draining = False
    _async: dict[str, Any]  # python-engineio's async driver table, copied per server below

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._closing: set[asyncio.Future[None]] = set()  # `close_flooding` tasks under way
        self._polled: weakref.WeakSet[Any] = weakref.WeakSet()  # sockets with one poll at a time
        self._async = {
            **self._async,
            "translate_request": self._translate_request,
            "websocket": CheckedWebSocket,
        }

    def _get_socket(self, sid: str) -> Any:
        """python-engineio's lookup of a session for each of its requests: a polling socket
        answers one poll at a time (`_one_poll_at_a_time`)."""
        socket = super()._get_socket(sid)
        if isinstance(socket, engineio.async_socket.AsyncSocket) and socket not in self._polled:
            self._polled.add(socket)
            socket.handle_get_request = _one_poll_at_a_time(socket.handle_get_request)
        return socket

    def report_malformed(self, sid: Any, what: str) -> None:
        if self.gate is not None:
            live = sid if isinstance(sid, str) and sid in self.sockets else None
            self.gate.malformed(live, what)

    def counted(self, sid: str | None, body: bytes) -> bytes:
        """A POST's Engine.IO pings, pongs, noops and upgrades never reach python-socketio:
        each takes a token of the socket's bucket here, as on a WebSocket; those over it are
        dropped, and a flood closes the session. The body without the dropped ones."""
        gate = self.gate
        if gate is None or sid is None or sid not in self.sockets or body[:2] == b"d=":
            return body
        packets = body.decode("utf-8").split(SEPARATOR)  # checked_payload found it UTF-8
        kept: list[str] = []
        for packet in packets:
            if packet[:1] in ENGINE_ONLY:
                verdict = gate.admit(sid)
                if verdict is Verdict.CLOSE:  # once this POST is answered: it is being read
                    closing = asyncio.ensure_future(self.close_flooding(sid))
                    self._closing.add(closing)
                    closing.add_done_callback(self._closing.discard)
                if verdict is not Verdict.HANDLE:
                    continue
            kept.append(packet)
        return body if len(kept) == len(packets) else SEPARATOR.join(kept).encode("utf-8")

    async def close_flooding(self, sid: str) -> None:
        """Disconnect a flooding socket now. Not `disconnect`: it waits until a long-polling
        client has read the CLOSE packet (which a flooding client need never do), and a request
        for a closed session still in `sockets` escapes python-engineio as a traceback."""
        socket = self.sockets.get(sid)
        if socket is None:
            return
        await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
        if self.sockets.get(sid) is socket:
            del self.sockets[sid]
        queue = getattr(socket, "queue", None)  # python-engineio's socket (a native one has none)
        if queue is not None:
            queue.put_nowait(None)  # its writer sends the CLOSE, then ends (closing a WebSocket)

    async def _translate_request(self, scope: Any, receive: Any, send: Any) -> dict[str, Any]:
        whole = whole_body(receive, self.max_http_buffer_size)
        environ: dict[str, Any] = await eio_asgi.translate_request(scope, whole, send)
        if environ.get("REQUEST_METHOD") == "POST" and "wsgi.input" in environ:
            sid = parse_qs(str(environ.get("QUERY_STRING", ""))).get("sid", [None])[0]
            environ["wsgi.input"] = CheckedBody(environ["wsgi.input"], self, sid)
        return environ


def whole_body(receive: Any, limit: int) -> Callable[[], Awaitable[dict[str, Any]]]:
    """`receive`, giving a request's body in one message: python-engineio's reader appends
    each piece to all it holds (a copy of the whole per piece: a client dripping a 1 MB POST a
    byte at a time cost most of a core). Gathered up to `limit` + 1 bytes, past which the
    reader refuses the body anyway; later calls go to `receive` itself."""
    first = True

    async def receive_whole() -> dict[str, Any]:
        nonlocal first
        message: dict[str, Any] = await receive()
        if not first or message["type"] != "http.request" or not message.get("more_body"):
            first = False
            return message
        first = False
        chunks = [message.get("body", b"")]
        size = len(chunks[0])
        while message.get("more_body") and size <= limit:
            message = await receive()
            if message["type"] != "http.request":
                return message  # the client left: nothing to read
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
        more = bool(message.get("more_body"))
        return {"type": "http.request", "body": b"".join(chunks), "more_body": more}

    return receive_whole


def _one_poll_at_a_time(
    handle_get_request: Callable[[dict[str, Any]], Awaitable[Any]],
) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    """A session's long-polling GETs, one waiting at a time: a client never sends a second
    while one waits, and python-engineio kept each (a connection with a request in flight, so
    never evicted at MAX_CONNECTIONS) up to 45 s, past the session's end. A second is answered
    at once with a NOOP, as python-engineio answers polls during an upgrade."""
    waiting = False

    async def handle_one(environ: dict[str, Any]) -> Any:
        nonlocal waiting
        # python-engineio's own test for an upgrade (not a header that merely names one)
        connection = str(environ.get("HTTP_CONNECTION", "")).lower().split(",")
        upgrade = str(environ.get("HTTP_UPGRADE", "")).lower()
        if "upgrade" in (token.strip() for token in connection) and upgrade == "websocket":
            return await handle_get_request(environ)  # the WebSocket upgrade: not a poll
        if waiting:
            return [eio_packet.Packet(eio_packet.NOOP)]
        waiting = True
        try:
            return await handle_get_request(environ)
        finally:
            waiting = False

    return handle_one


class CheckedBody:
    """A POST body reader (the driver's `wsgi.input`) that drops undecodable packets."""

    def __init__(self, body: Any, server: CheckedEngineServer, sid: str | None) -> None:
        self._body = body
        self._server = server
        self._sid = sid

    async def read(self, length: int | None = None) -> bytes:
        body, problem = checked_payload(await self._body.read(length))
        if problem is not None:
            self._server.report_malformed(self._sid, problem)
        return self._server.counted(self._sid, body)


class CheckedWebSocket(eio_asgi.WebSocket):  # type: ignore[misc]
    """python-engineio's ASGI WebSocket, handing its loop only packets it can decode."""

    def __init__(self, handler: Any, server: CheckedEngineServer) -> None:
        super().__init__(handler, server)
        self._server = server
        self._sid = getattr(getattr(handler, "__self__", None), "sid", None)

    async def wait(self) -> Any:
        while True:
            data = await super().wait()
            if data and len(data) > self._server.max_http_buffer_size:
                # python-engineio would raise ValueError, a traceback while upgrading; OSError
                # ends the connection quietly wherever it is waited for.
                raise OSError("packet is too large")
            problem = packet_problem(data)
            if problem is not None:
                self._server.report_malformed(self._sid, problem)
            elif not self._counted(data):
                return data

    def _counted(self, data: str | bytes) -> bool:
        """An Engine.IO ping, pong, noop or upgrade never reaches python-socketio: it takes a
        token of the socket's bucket here (True: skip it); a flood ends the connection, as
        OSError ends it quietly wherever it is waited for."""
        gate, sid = self._server.gate, self._sid
        if gate is None or sid is None or not isinstance(data, str) or data[:1] not in ENGINE_ONLY:
            return False
        verdict = gate.admit(sid)
        if verdict is Verdict.CLOSE:
            raise OSError("flooding with Engine.IO packets")
        return verdict is not Verdict.HANDLE
