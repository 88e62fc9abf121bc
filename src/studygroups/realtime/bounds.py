"""What one Engine.IO session may hold on the server: bytes waiting for it, and time before it
logs in. Both apply to every path a socket can take (docs/security.md, "Connections and
resources"):

* Bytes waiting. `NativeSocket` (engine.py) writes straight to its transport and is cut off
  when the transport buffers more than the limit. A socket python-engineio serves (long-polling,
  or a WebSocket through uvicorn) waits on its outgoing `queue`; here that queue is a
  `BoundedQueue` that counts what waits in it and, past the limit, drops it all and closes the
  socket, aborting its WebSocket if it has one (the library's writer would otherwise stay
  blocked on a client that never reads).
* Time to log in. An Engine.IO session must be connected to a Socket.IO namespace (which
  needs a valid token, namespace.py) within `auth_timeout` seconds of opening, and stay so:
  the check repeats every `auth_timeout` seconds, so a session whose CONNECT was refused or
  whose namespace left is closed within two periods.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from studygroups.compat import asgi_protocol
from studygroups.metrics import Metrics
from studygroups.realtime.engine import NativeSocket

log = logging.getLogger("studygroups.realtime")

# What a queued packet costs besides its payload (the Packet object and the queue's slot).
PACKET_OVERHEAD = 64

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# The transport of the WebSocket whose ASGI call is running, for a session it opens.
_websocket_transport: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "studygroups_websocket_transport", default=None
)


def packet_cost(pkt: Any) -> int:
    """The bytes a queued Engine.IO packet counts for: its payload's length plus overhead."""
    data = getattr(pkt, "data", None)
    if isinstance(data, str | bytes):
        return len(data) + PACKET_OVERHEAD
    return PACKET_OVERHEAD


class BoundedQueue(asyncio.Queue[Any]):
    """python-engineio's outgoing queue of one socket, holding at most `limit` bytes' worth.

    Past the limit everything waiting is dropped, later packets are refused, and `overflowed`
    is called once; `None` (the library's "stop" marker) always gets through.
    """

    def __init__(
        self, limit: int, overflowed: Callable[[BoundedQueue], None], connection: Any
    ) -> None:
        super().__init__()
        self.limit = limit
        self.waiting = 0
        self.cut = False
        self.connection = connection  # the WebSocket transport serving the socket, if any
        self._overflowed = overflowed

    def put_nowait(self, item: Any) -> None:
        if item is None:
            super().put_nowait(None)
            return
        if self.cut:
            return
        cost = packet_cost(item)
        if self.waiting + cost > self.limit:
            self._cut()
            return
        self.waiting += cost
        super().put_nowait(item)

    def get_nowait(self) -> Any:
        item = super().get_nowait()
        if item is not None:
            self.waiting -= packet_cost(item)
        return item

    def _cut(self) -> None:
        self.cut = True
        while not self.empty():
            super().get_nowait()
            self.task_done()  # `close(wait=True)` joins the queue: nothing left to wait for
        self.waiting = 0
        self._overflowed(self)


class SocketBounds:
    """Installs both bounds on a python-socketio server and cuts off sockets that pass them."""

    def __init__(
        self, sio: Any, max_buffered_bytes: int, auth_timeout: float, metrics: Metrics
    ) -> None:
        self.sio = sio
        self.max_buffered_bytes = max_buffered_bytes
        self.auth_timeout = auth_timeout
        self.metrics = metrics
        self._tasks: set[asyncio.Task[Any]] = set()

    def install(self) -> None:
        eio = self.sio.eio
        eio.create_queue = self._create_queue  # every AsyncSocket takes its queue from here
        opened = eio.handlers.get("connect")

        async def connect(sid: str, environ: dict[str, Any]) -> Any:
            result = await opened(sid, environ) if opened is not None else None
            if result is None or result is True:
                asyncio.get_running_loop().call_later(self.auth_timeout, self._check_login, sid)
            return result

        eio.handlers["connect"] = connect  # python-engineio's and NativeEngine's both call it

    def native_overflow(self) -> None:
        """A `NativeSocket` was cut off for reading too slowly (engine.py)."""
        self.metrics.socket_overflows.labels("native").inc()

    # -- bytes waiting ------------------------------------------------------------------------

    def _create_queue(self, *_: Any, **__: Any) -> BoundedQueue:
        return BoundedQueue(self.max_buffered_bytes, self._overflowed, _websocket_transport.get())

    def _overflowed(self, queue: BoundedQueue) -> None:
        socket = next(
            (s for s in self.sio.eio.sockets.values() if getattr(s, "queue", None) is queue), None
        )
        self.metrics.socket_overflows.labels("engineio").inc()
        sid = getattr(socket, "sid", "?")
        log.warning(
            "closing %s: the client reads too slowly (over %d bytes waiting)", sid, queue.limit
        )
        if queue.connection is not None:
            queue.connection.abort()
        queue.put_nowait(None)  # wake the library's writer or pending poll: nothing to send
        if socket is not None:
            self._spawn(
                socket.close(wait=False, abort=True, reason=self.sio.eio.reason.TRANSPORT_ERROR)
            )

    # -- time to log in -----------------------------------------------------------------------

    def _check_login(self, sid: str) -> None:
        socket = self.sio.eio.sockets.get(sid)
        if socket is None or socket.closing or socket.closed:
            return
        manager = self.sio.manager
        if any(manager.sid_from_eio_sid(sid, ns) for ns in list(manager.get_namespaces())):
            asyncio.get_running_loop().call_later(self.auth_timeout, self._check_login, sid)
            return
        self.metrics.auth_timeouts.inc()
        log.info("closing %s: no namespace connected within %s s", sid, self.auth_timeout)
        self._spawn(self._close(socket))

    async def _close(self, socket: Any) -> None:
        await socket.close(wait=False, reason=self.sio.eio.reason.SERVER_DISCONNECT)
        if not isinstance(socket, NativeSocket):
            socket.queue.put_nowait(None)  # end its writer or pending poll after the CLOSE packet

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- which WebSocket serves a python-engineio socket --------------------------------------

    def middleware(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> Any:
        """ASGI middleware: note the transport of each WebSocket uvicorn serves at /socket.io/,
        so that an overflowing socket's connection can be aborted."""

        async def remember_transport(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "websocket" and scope["path"].startswith("/socket.io"):
                transport = getattr(asgi_protocol(send), "transport", None)
                sid = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("sid")
                if sid:  # an upgrade: the session and its queue exist already
                    socket = self.sio.eio.sockets.get(sid[0])
                    queue = getattr(socket, "queue", None)
                    if isinstance(queue, BoundedQueue):
                        queue.connection = transport
                else:
                    _websocket_transport.set(transport)  # read by `_create_queue`
            await app(scope, receive, send)

        return remember_transport
