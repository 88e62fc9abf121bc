"""The WebSocket protocol uvicorn runs for every upgrade (its `ws` setting).

uvicorn parses the HTTP request, then hands the upgrade to this class as one `data_received`
holding the request. A new Engine.IO session over WebSocket becomes a `NativeSocket`
(engine.py), a long-polling session upgrading becomes an `UpgradingSocket` (upgrade.py), also
when the client asks for a subprotocol (it is simply not selected); anything else (another
path, a refused origin, an unknown sid) goes to uvicorn's own websockets-sansio protocol and
through ASGI to python-engineio, whose outgoing queues are bounded too (bounds.py).
Once chosen, the target replaces this object as the transport's protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, cast

from studygroups.compat import WebSocketsSansIOProtocol
from studygroups.realtime import websocket as ws
from studygroups.realtime.bounds import SocketBounds
from studygroups.realtime.engine import NativeEngine, NativeSocket
from studygroups.realtime.upgrade import UpgradingSocket


class UpgradeProtocol(asyncio.Protocol):
    """Chooses, on the upgrade request, who serves the WebSocket; forwards until replaced."""

    engine: ClassVar[NativeEngine]

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
        self._target = self._choose(transport, data)
        # uvicorn makes this object the transport's protocol once we return; hand over after.
        asyncio.get_running_loop().call_soon(self._hand_over)

    def _choose(self, transport: asyncio.Transport, data: bytes) -> asyncio.Protocol:
        request = ws.parse_request(data)
        if request is not None:
            scheme = "https" if transport.get_extra_info("sslcontext") else "http"
            environ = NativeEngine.environ(request, transport.get_extra_info("peername"), scheme)
            connections = self._server_state.connections
            if self.engine.accepts(request, environ):
                socket = NativeSocket(self.engine, connections)
                socket.start(transport, request, environ)
                return socket
            polling = self.engine.upgradable(request, environ)
            if polling is not None:
                upgrading = UpgradingSocket(self.engine, connections, polling)
                upgrading.start_upgrade(transport, request)
                return upgrading
        fallback = WebSocketsSansIOProtocol(
            config=self._config, server_state=self._server_state, app_state=self._app_state
        )
        fallback.connection_made(transport)
        fallback.data_received(data)
        return fallback

    def _hand_over(self) -> None:
        if self._transport is not None and self._target is not None:
            self._transport.set_protocol(self._target)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._target is not None:
            self._target.connection_lost(exc)
        self._transport = None

    def eof_received(self) -> bool | None:
        return self._target.eof_received() if self._target is not None else None

    def pause_writing(self) -> None:
        if self._target is not None:
            self._target.pause_writing()

    def resume_writing(self) -> None:
        if self._target is not None:
            self._target.resume_writing()


def websocket_protocol(sio: Any, bounds: SocketBounds | None = None) -> type[UpgradeProtocol]:
    """uvicorn's `ws` class for this Socket.IO server (served at /socket.io/), cutting off
    sockets past `bounds.max_buffered_bytes` (bounds.py)."""
    if bounds is None:
        engine = NativeEngine(sio.eio, environs=sio.environ)
    else:
        engine = NativeEngine(
            sio.eio,
            environs=sio.environ,
            write_buffer_limit=bounds.max_buffered_bytes,
            on_overflow=bounds.native_overflow,
        )
    return type("StudyGroupsWebSocket", (UpgradeProtocol,), {"engine": engine})
