"""Engine.IO over a plain WebSocket, one asyncio protocol object per connection and no tasks.

python-engineio serves a WebSocket through ASGI: per connection it keeps a reader task, a writer
task, an outgoing queue, a ping task and uvicorn's protocol with its own queue and parser, and
every frame travels writer → ASGI send → uvicorn → websockets. That costs ~45 KiB and a task
wake-up per frame per recipient. Socket.IO clients on WebSocket are served here instead, whether
they connect straight over it (`transports: ["websocket"]`) or upgrade from long-polling:

* `NativeSocket` is the connection's asyncio protocol *and* the Engine.IO socket python-socketio
  talks to (it sits in `eio.sockets` and answers `send`, `close`, `session` like
  `engineio.AsyncSocket`), so rooms, acks, namespaces and the Redis manager work unchanged.
* Frames are written straight to the transport, collected per loop turn into one write per
  socket (`NativeEngine.flush`); a room broadcast writes the same pre-framed bytes to every
  member (see fanout.py).
* The heartbeat is a timer per connection, not a task; incoming messages run the library's
  handler in a short-lived task each, as python-engineio does with `async_handlers`. A socket
  no longer in `eio.sockets` (nothing can reach it) is closed at its next heartbeat.

Which upgrade requests are served here is decided in handshake.py. A long-polling session that
upgrades to WebSocket moves onto a `NativeSocket` too (upgrade.py). Everything else —
long-polling itself, refused origins, bad versions — is left to python-engineio through
uvicorn's own protocol (`protocol.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from engineio import packet as eio_packet

from studygroups.realtime import websocket as ws
from studygroups.realtime.admission import Admission
from studygroups.realtime.codecs import PATHS
from studygroups.realtime.inbound import Verdict
from studygroups.realtime.packets import packet_problem

log = logging.getLogger("studygroups.realtime")

# A client that reads nothing while this much is waiting for it is cut off; it comes back with
# lastSeq and gets what it missed from the event log. The default of SOCKET_MAX_BUFFERED_BYTES,
# which also bounds the sockets python-engineio serves (bounds.py).
WRITE_BUFFER_LIMIT = 4 * 1024 * 1024

PING_FRAME = ws.text_frame("2")
CLOSE_PACKET_FRAME = ws.text_frame("1")


def packet_frame(pkt: Any) -> bytes:
    """The WebSocket frame of an Engine.IO packet: text, or binary for binary data."""
    encoded = pkt.encode()
    if isinstance(encoded, str):
        return ws.text_frame(encoded)
    return ws.frame(ws.BINARY, encoded)


class NativeEngine:
    """The WebSocket sessions of one python-engineio server, written without its tasks."""

    def __init__(
        self,
        eio: Any,
        paths: tuple[str, ...] = PATHS,
        environs: dict[str, Any] | None = None,
        write_buffer_limit: int = WRITE_BUFFER_LIMIT,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.eio = eio
        self.paths = paths  # one per codec: the same sessions, rooms and server (codecs.py)
        self.environs = {} if environs is None else environs  # python-socketio's, by sid
        self.write_buffer_limit = write_buffer_limit
        self.on_overflow = on_overflow  # counts a socket cut off for reading too slowly
        self.admission = Admission()  # new clients arriving at once (admission.py)
        self._dirty: list[NativeSocket] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- outgoing: one write per socket per loop turn -----------------------------------------

    def mark_dirty(self, socket: NativeSocket) -> None:
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self.flush)
        self._dirty.append(socket)

    def flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for socket in dirty:
            try:
                socket.flush()
            except Exception:
                # One transport failing must not leave the sockets after it with output that
                # no flush is due for (`write` marks a socket dirty only when it had none).
                log.exception("closing %s: writing to it failed", socket.sid)
                socket.abort()

    # -- calls into python-socketio ----------------------------------------------------------

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def connect(self, sid: str, environ: dict[str, Any]) -> bool:
        handler = self.eio.handlers.get("connect")
        if handler is None:
            return True
        try:
            return await handler(sid, environ) in (None, True)
        except Exception:
            log.exception("connect handler failed for %s", sid)
            return False

    async def message(self, sid: str, data: str | bytes) -> None:
        handler = self.eio.handlers.get("message")
        if handler is None:
            return
        try:
            await handler(sid, data)
        except Exception:
            log.exception("message handler failed for %s", sid)

    def admit(self, sid: str) -> Verdict:
        """A packet or frame of `sid` that never reaches python-socketio (an Engine.IO ping,
        pong, noop or upgrade, a WebSocket control frame, a fragment) takes a token from the
        socket's inbound bucket as Socket.IO packets do, so flooding with them is bounded and
        ends in the same disconnect (docs/security.md "Socket.IO frames")."""
        gate = getattr(self.eio, "gate", None)
        return Verdict.HANDLE if gate is None else gate.admit(sid)

    def malformed(self, sid: str, text: str) -> None:
        """A text frame that is no Engine.IO packet a client sends: counted, never handled."""
        report = getattr(self.eio, "report_malformed", None)
        if report is not None:
            report(sid, packet_problem(text) or "an Engine.IO packet only a server sends")

    async def disconnect(self, sid: str, reason: str) -> None:
        handler = self.eio.handlers.get("disconnect")
        if handler is None:
            return
        try:
            await handler(sid, reason)
        except Exception:
            log.exception("disconnect handler failed for %s", sid)


class NativeSocket(asyncio.Protocol):
    """One client: its WebSocket protocol and its Engine.IO socket (as engineio.AsyncSocket)."""

    __slots__ = (
        "_awaiting_pong",
        "_connections",
        "_engine",
        "_inbox",
        "_out",
        "_reader",
        "_session",
        "_timer",
        "_transport",
        "closed",
        "closing",
        "sid",
    )

    # what python-engineio and python-socketio read of a socket
    connected = True
    upgraded = True
    upgrading = False

    def __init__(self, engine: NativeEngine, connections: set[Any], sid: str | None = None) -> None:
        self._engine = engine
        self._connections = connections
        self._reader = ws.FrameReader(engine.eio.max_http_buffer_size)
        self._transport: asyncio.Transport | None = None
        self._out: list[bytes] | None = None
        self._inbox: list[str | bytes] | None = []  # messages before `connect` ran
        self._session: dict[str, Any] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._awaiting_pong = False
        self.sid = sid or engine.eio.generate_id()
        self.closing = False
        self.closed = False

    # -- the session, as python-engineio keeps it ---------------------------------------------

    @property
    def session(self) -> dict[str, Any]:
        if self._session is None:
            self._session = {}
        return self._session

    @session.setter
    def session(self, value: dict[str, Any]) -> None:
        self._session = value

    # -- opening --------------------------------------------------------------------------------

    def start(self, transport: asyncio.Transport, request: ws.UpgradeRequest, environ: Any) -> None:
        """Answer the handshake, send Engine.IO's OPEN and run the application's connect."""
        self._transport = transport
        self._connections.add(self)
        self._engine.admission.hold(self.sid)  # until its first join is answered
        eio = self._engine.eio
        eio.sockets[self.sid] = self
        opening = eio_packet.Packet(
            eio_packet.OPEN,
            {
                "sid": self.sid,
                "upgrades": [],
                "pingTimeout": int(eio.ping_timeout * 1000),
                "pingInterval": int(eio.ping_interval + eio.ping_interval_grace_period) * 1000,
                "maxPayload": eio.max_http_buffer_size,
            },
        ).encode()
        key = request.headers["sec-websocket-key"]
        transport.write(ws.handshake_response(key) + ws.text_frame(opening))
        self._arm_ping()
        self._engine.spawn(self._open(environ))

    async def _open(self, environ: dict[str, Any]) -> None:
        if not await self._engine.connect(self.sid, environ):
            log.info("connection %s refused by the application", self.sid)
            self._shut(ws.NORMAL_CLOSURE, self._engine.eio.reason.SERVER_DISCONNECT)
            return
        inbox, self._inbox = self._inbox or [], None
        for data in inbox:
            self._engine.spawn(self._engine.message(self.sid, data))

    # -- incoming ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        try:
            messages = reader.feed(data)
        except ws.ProtocolError as error:
            log.info("closing %s: %s", self.sid, error.reason)
            self._shut(error.code, self._engine.eio.reason.TRANSPORT_ERROR)
            return
        if reader.pieces:
            pieces, reader.pieces = reader.pieces, 0
            for _ in range(pieces):
                if self._admit() is Verdict.CLOSE:
                    return
        for opcode, payload in messages:
            if opcode == ws.TEXT:
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    self._shut(ws.INVALID_DATA, self._engine.eio.reason.TRANSPORT_ERROR)
                    return
                self._on_packet(text)
            elif opcode == ws.BINARY:
                self._on_message(payload)
            elif opcode in (ws.PING, ws.PONG):
                verdict = self._admit()
                if verdict is Verdict.CLOSE:
                    return
                if opcode == ws.PING and verdict is Verdict.HANDLE:
                    self.write(ws.frame(ws.PONG, payload))
            elif opcode == ws.CLOSE:
                code = ws.close_code(payload)
                self._shut(
                    ws.NORMAL_CLOSURE if code in (1005, 1006) else code,
                    self._engine.eio.reason.TRANSPORT_CLOSE,
                )
                return

    def _on_packet(self, text: str) -> None:
        kind = text[:1]
        if kind == "4":
            self._on_message(text[1:])  # counted where python-socketio decodes it (server.py)
        elif kind == "1":
            self._shut(ws.NORMAL_CLOSURE, self._engine.eio.reason.CLIENT_DISCONNECT)
        elif self._admit() is not Verdict.HANDLE:
            return
        elif kind == "3":
            self._awaiting_pong = False
            self._arm_ping()
        elif kind not in ("2", "5", "6"):  # an Engine.IO 3 ping, upgrade, noop: nothing to do
            self._engine.malformed(self.sid, text)

    def _admit(self) -> Verdict:
        """A token for one packet or frame python-socketio never sees; a flood closes."""
        verdict = self._engine.admit(self.sid)
        if verdict is Verdict.CLOSE:
            self._shut(ws.POLICY_VIOLATION, self._engine.eio.reason.SERVER_DISCONNECT)
        return verdict

    def _on_message(self, data: str | bytes) -> None:
        if self._inbox is not None:
            self._inbox.append(data)
        elif not self.closing:
            self._engine.spawn(self._engine.message(self.sid, data))

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._connections.discard(self)
        self._shut(ws.NORMAL_CLOSURE, self._engine.eio.reason.TRANSPORT_CLOSE)

    # -- outgoing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue bytes for the end of this loop turn."""
        if self._out is None:
            self._out = [data]
            self._engine.mark_dirty(self)
        else:
            self._out.append(data)

    def flush(self) -> None:
        out, self._out = self._out, None
        transport = self._transport
        if not out or transport is None or transport.is_closing():
            return
        transport.write(out[0] if len(out) == 1 else b"".join(out))
        if transport.get_write_buffer_size() > self._engine.write_buffer_limit:
            log.warning("closing %s: the client reads too slowly", self.sid)
            if self._engine.on_overflow is not None:
                self._engine.on_overflow()
            transport.abort()

    async def send(self, pkt: Any) -> None:
        """engineio.AsyncSocket.send: one Engine.IO packet."""
        if self.closed:
            return
        self.write(packet_frame(pkt))

    async def close(
        self, wait: bool = True, abort: bool = False, reason: str | None = None
    ) -> None:
        """engineio.AsyncSocket.close: tell the application, send CLOSE, end the WebSocket."""
        if self.closed or self.closing:
            return
        self.closing = True
        await self._engine.disconnect(self.sid, reason or self._engine.eio.reason.SERVER_DISCONNECT)
        if not abort:
            self.write(CLOSE_PACKET_FRAME)
        self.closed = True
        self._end(ws.NORMAL_CLOSURE)

    def abort(self) -> None:
        """Drop what waits and the connection at once; the application is told why."""
        self._out = None
        transport, self._transport = self._transport, None
        self._connections.discard(self)
        self._shut(ws.NORMAL_CLOSURE, self._engine.eio.reason.TRANSPORT_ERROR)
        if transport is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to do
                transport.abort()

    async def check_ping_timeout(self) -> bool:
        """python-engineio's monitor asks every socket; ours keeps its own timer."""
        return not self.closed

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the client to go elsewhere (it reconnects). The process is
        about to exit, so the application is not told: unwinding its state for every socket
        (a disconnect task and handler each) held the exit, and the port, for 1.6 s with 2,500
        sockets while their clients were being refused (`bench/run storm`)."""
        self._engine.eio.draining = True
        self.closing = True  # `_shut` (and `connection_lost`) will not spawn `_disconnected`
        self._end(ws.GOING_AWAY)

    # -- heartbeat and closing ----------------------------------------------------------------

    def _arm_ping(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._engine.eio.ping_interval, self._ping)

    def _ping(self) -> None:
        if self.closing or self.closed:
            return
        if self._engine.eio.sockets.get(self.sid) is not self:
            # python-socketio reaches a session only through `eio.sockets`: this socket would
            # stay open on its heartbeat while missing every event. Closed, its client
            # reconnects and catches up with lastSeq.
            log.warning(
                "closing %s: no longer the session's socket, it would miss events", self.sid
            )
            self.write(CLOSE_PACKET_FRAME)
            self._shut(ws.GOING_AWAY, self._engine.eio.reason.SERVER_DISCONNECT)
            return
        self._awaiting_pong = True
        self.write(PING_FRAME)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._engine.eio.ping_timeout, self._pong_due)

    def _pong_due(self) -> None:
        self._timer = None
        if self._awaiting_pong:
            log.info("closing %s: no pong within the ping timeout", self.sid)
            self.write(CLOSE_PACKET_FRAME)
            self._shut(ws.NORMAL_CLOSURE, self._engine.eio.reason.PING_TIMEOUT)

    def _shut(self, code: int, reason: str) -> None:
        """End the WebSocket with `code`, then tell the application, once, why it ended."""
        self._end(code)
        if not self.closing and not self.closed:
            self.closing = True
            self._engine.spawn(self._disconnected(reason))

    async def _disconnected(self, reason: str) -> None:
        await self._engine.disconnect(self.sid, reason)
        self.closed = True

    def _end(self, code: int) -> None:
        self._engine.admission.release(self.sid)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        sockets = self._engine.eio.sockets
        if sockets.get(self.sid) is self:
            del sockets[self.sid]
        transport = self._transport
        if transport is not None and not transport.is_closing():
            self.flush()
            transport.write(ws.close_frame(code))
            transport.close()
