"""The WebSocket protocol uvicorn runs for every upgrade (its `ws` setting).

uvicorn parses the HTTP request, then hands the upgrade to this class as one `data_received`
holding the request. A new Engine.IO session over WebSocket becomes a `NativeSocket`
(engine.py), a long-polling session upgrading becomes an `UpgradingSocket` (upgrade.py), also
when the client asks for a subprotocol (it is simply not selected); anything else (another
path or spelling, a refused origin, an unknown sid) is refused with 403, as uvicorn refuses a
WebSocket the app does not accept. Only without the app's engine (no lifespan) does an upgrade
go to uvicorn's own websockets-sansio protocol and through ASGI to python-engineio.
Once chosen, the target replaces this object as the transport's protocol.

`UpgradeProtocol` is one module-level class, so that uvicorn can load it from an import string
(`--ws studygroups.asgi:WebSocket`, studygroups/asgi.py): it finds the app's `NativeEngine` in
the lifespan state uvicorn hands every protocol (`app_state`), where the app puts it at startup
(`share_with_protocols`). Without it (no lifespan) every WebSocket goes to the fallback.
`warn_if_not_native` is the app's side: a Socket.IO WebSocket reaching it through ASGI while
the server does not run this protocol is logged once as a WARNING and counted, never silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from studygroups.compat import WebSocketsSansIOProtocol
from studygroups.metrics import Metrics
from studygroups.realtime import handshake
from studygroups.realtime import websocket as ws
from studygroups.realtime.bounds import SocketBounds
from studygroups.realtime.engine import NativeEngine, NativeSocket
from studygroups.realtime.upgrade import UpgradingSocket

log = logging.getLogger("studygroups.realtime")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Keys of the lifespan state (uvicorn's `app_state`, the ASGI scope's "state").
TRANSPORT_KEY = "studygroups.websocket_transport"  # the NativeTransport, put by the app
SERVED_KEY = "studygroups.native_websockets"  # set by UpgradeProtocol: this server runs it


@dataclass(frozen=True)
class NativeTransport:
    """What the module-level protocol needs of one app: its engine and where to count."""

    engine: NativeEngine
    metrics: Metrics


REFUSED = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Refused(asyncio.Protocol):
    """A refused upgrade's connection, closing: whatever else arrives is dropped."""

    def data_received(self, data: bytes) -> None:
        return None


class UpgradeProtocol(asyncio.Protocol):
    """Chooses, on the upgrade request, who serves the WebSocket; forwards until replaced."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._config = config
        self._server_state = server_state
        self._app_state = app_state
        self._native: NativeTransport | None = app_state.get(TRANSPORT_KEY)
        if self._native is not None:  # the app sees this in every scope's "state" from now on
            app_state[SERVED_KEY] = True
        self._transport: asyncio.Transport | None = None
        self._target: asyncio.Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._target is not None:
            self._target.data_received(data)
            return
        transport = self._transport
        assert transport is not None
        target = self._choose(transport, data)
        if target is None:
            return  # waiting for a place among the clients arriving (`_admitted`)
        self._target = target
        # uvicorn makes this object the transport's protocol once we return; hand over after.
        asyncio.get_running_loop().call_soon(self._hand_over)

    def _choose(self, transport: asyncio.Transport, data: bytes) -> asyncio.Protocol | None:
        request = ws.parse_request(data)
        native = self._native
        if request is not None and native is not None:
            engine = native.engine
            scheme = "https" if transport.get_extra_info("sslcontext") else "http"
            environ = handshake.environ_of(request, transport.get_extra_info("peername"), scheme)
            connections = self._server_state.connections
            if handshake.accepts(engine, request, environ):
                if engine.admission.full():
                    # Answered once a client before it is in (admission.py); until then nothing
                    # more is read from it. It counts as a connection meanwhile
                    # (MAX_CONNECTIONS), and a shutdown closes it.
                    native.metrics.websockets_waited.inc()
                    transport.pause_reading()
                    connections.add(self)
                    engine.admission.wait(lambda: self._admitted(request, environ))
                    return None
                return self._open_native(transport, request, environ)
            polling = handshake.upgradable(engine, request, environ)
            if polling is not None:
                native.metrics.websockets.labels("upgrade").inc()
                upgrading = UpgradingSocket(engine, connections, polling)
                upgrading.start_upgrade(transport, request)
                return upgrading
        if native is not None:
            # The app serves no other WebSocket, and the fallback would serve spellings the
            # native path does not take (`/socket.io` without its slash, `//`, a repeated
            # `transport=`) through python-engineio, where none of the native path's bounds on
            # control frames, fragments and write buffers hold. Refused as uvicorn refuses a
            # WebSocket the app does not accept.
            transport.write(REFUSED)
            transport.close()
            return Refused()
        fallback = WebSocketsSansIOProtocol(
            config=self._config, server_state=self._server_state, app_state=self._app_state
        )
        fallback.connection_made(transport)
        fallback.data_received(data)
        return fallback

    def _open_native(
        self, transport: asyncio.Transport, request: ws.UpgradeRequest, environ: dict[str, Any]
    ) -> NativeSocket:
        assert self._native is not None
        self._native.metrics.websockets.labels("native").inc()
        socket = NativeSocket(self._native.engine, self._server_state.connections)
        socket.start(transport, request, environ)
        return socket

    def _admitted(self, request: ws.UpgradeRequest, environ: dict[str, Any]) -> bool:
        """A place is free: answer the upgrade that waited for it, unless its client left."""
        self._server_state.connections.discard(self)
        transport = self._transport
        if transport is None or transport.is_closing() or self._target is not None:
            return False
        assert self._native is not None
        if getattr(self._native.engine.eio, "draining", False):
            # The place was freed by the shutdown closing a socket: nothing new opens now.
            transport.close()
            return False
        self._target = self._open_native(transport, request, environ)
        transport.set_protocol(self._target)
        transport.resume_reading()
        return True

    def _hand_over(self) -> None:
        if self._transport is not None and self._target is not None:
            self._transport.set_protocol(self._target)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._target is not None:
            self._target.connection_lost(exc)
        self._server_state.connections.discard(self)  # one that waited (`_admitted`)
        self._transport = None

    def shutdown(self) -> None:
        """uvicorn is stopping while this upgrade waits for a place: not answered at all."""
        if self._transport is not None and self._target is None:
            self._transport.close()

    def eof_received(self) -> bool | None:
        return self._target.eof_received() if self._target is not None else None

    def pause_writing(self) -> None:
        if self._target is not None:
            self._target.pause_writing()

    def resume_writing(self) -> None:
        if self._target is not None:
            self._target.resume_writing()


def native_transport(sio: Any, bounds: SocketBounds, metrics: Metrics) -> NativeTransport:
    """The native WebSocket path of this Socket.IO server (served at /socket.io/ and
    /socket.io-msgpack/, codecs.py), cutting off
    sockets past `bounds.max_buffered_bytes` (bounds.py)."""
    engine = NativeEngine(
        sio.eio,
        environs=sio.environ,
        write_buffer_limit=bounds.max_buffered_bytes,
        on_overflow=bounds.native_overflow,
    )
    return NativeTransport(engine, metrics)


def share_with_protocols(app: ASGIApp, transport: NativeTransport) -> ASGIApp:
    """ASGI middleware: put `transport` in the lifespan state at startup, where uvicorn hands it
    to every protocol it creates (`app_state`)."""

    async def shared(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and isinstance(scope.get("state"), dict):
            scope["state"][TRANSPORT_KEY] = transport
        await app(scope, receive, send)

    return shared


def warn_if_not_native(app: ASGIApp, metrics: Metrics, path: str = "/socket.io") -> ASGIApp:
    """ASGI middleware: count every Socket.IO WebSocket served through ASGI (python-engineio's
    path), and say once, as a WARNING, when that is because the server does not run the native
    protocol at all (served without `--ws studygroups.asgi:WebSocket`, docs/deployment.md)."""
    warned = False

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal warned
        if scope["type"] == "websocket" and scope["path"].startswith(path):
            metrics.websockets.labels("engineio").inc()
            if not warned and not scope.get("state", {}).get(SERVED_KEY):
                warned = True
                log.warning(
                    "WebSockets are served by python-engineio, not the native path: "
                    "the server does not run studygroups' WebSocket protocol with the app's "
                    "lifespan (uvicorn --ws studygroups.asgi:WebSocket, see docs/deployment.md)"
                )
        await app(scope, receive, send)

    return watched
