"""A long-polling Engine.IO session moving onto a WebSocket served by `NativeSocket`.

socket.io-client starts on long-polling by default and then opens a WebSocket with the same
`sid`. The exchange is Engine.IO's: the client sends `2probe`, the server answers `3probe` and
ends the pending poll with a NOOP; the client then sends `5` (upgrade) and from then on speaks
only WebSocket. At `5` the `UpgradingSocket` takes the session over: it replaces the polling
socket in `eio.sockets` (same sid, same python-socketio rooms and namespaces), carries its
session over, and first sends whatever was queued for the polling socket meanwhile, so nothing
is lost or reordered. The polling socket is retired without a disconnect, as `closing` (see
`_take_over`: python-engineio's monitor may still hold it). If the WebSocket
fails before `5`, the session simply stays on long-polling, as with python-engineio.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from engineio import packet as eio_packet

from studygroups.realtime import websocket as ws
from studygroups.realtime.engine import NativeEngine, NativeSocket, packet_frame

log = logging.getLogger("studygroups.realtime")

PROBE_ANSWER = ws.text_frame("3probe")


class UpgradingSocket(NativeSocket):
    """A `NativeSocket` that starts as the WebSocket of an upgrade and becomes the session's."""

    __slots__ = ("_polling",)

    def __init__(self, engine: NativeEngine, connections: set[Any], polling: Any) -> None:
        super().__init__(engine, connections, sid=polling.sid)
        self._polling: Any | None = polling
        self._inbox = None  # the session is connected already

    def start_upgrade(self, transport: asyncio.Transport, request: ws.UpgradeRequest) -> None:
        """Answer the WebSocket handshake; the polling socket holds its packets meanwhile."""
        self._transport = transport
        self._connections.add(self)
        assert self._polling is not None
        self._polling.upgrading = True
        transport.write(ws.handshake_response(request.headers["sec-websocket-key"]))

    def _on_packet(self, text: str) -> None:
        polling = self._polling
        if polling is None:
            super()._on_packet(text)
        elif text == "2probe":
            self.write(PROBE_ANSWER)
            polling.queue.put_nowait(eio_packet.Packet(eio_packet.NOOP))  # end the pending poll
        elif text == "5":
            self._take_over(polling)
        else:
            log.info("upgrade of %s failed: %r before the upgrade packet", self.sid, text[:20])
            self._abandon(ws.PROTOCOL_ERROR)

    def _take_over(self, polling: Any) -> None:
        self._polling = None
        sockets = self._engine.eio.sockets
        if sockets.get(self.sid) is not polling or polling.closing or polling.closed:
            self.closed = True  # the session ended while upgrading
            self._end(ws.NORMAL_CLOSURE)
            return
        polling.upgrading = False
        polling.upgraded = True
        # Retired as `closing`, never `closed`: its heartbeat stops and `close` does nothing, as
        # with `closed`; but python-engineio's monitor, walking a copy of `eio.sockets` taken
        # before this moment, deletes `eio.sockets[sid]` for a socket it finds closed, which
        # would now take this WebSocket out of every broadcast while it stays open. It skips a
        # closing one.
        polling.closing = True
        self._session = polling.session
        sockets[self.sid] = self
        self._slim_environ()
        queue = polling.queue
        while not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is not None and pkt.packet_type != eio_packet.NOOP:
                self.write(packet_frame(pkt))
        self._arm_ping()

    def _slim_environ(self) -> None:
        """The environ of a session that began on long-polling holds its first request's ASGI
        objects (scope, receive, send, body reader); keep only the plain string entries, as a
        native session's environ has."""
        environs = self._engine.environs
        environ = environs.get(self.sid)
        if environ is not None:
            environs[self.sid] = {k: v for k, v in environ.items() if isinstance(v, str)}

    def _abandon(self, code: int) -> None:
        """Close this WebSocket and leave the session on long-polling."""
        polling, self._polling = self._polling, None
        if polling is not None:
            polling.upgrading = False
        self.closed = True
        self._end(code)

    def _shut(self, code: int, reason: str) -> None:
        """Before `5` a closed or broken WebSocket ends only the upgrade, not the session."""
        if self._polling is not None:
            self._abandon(code)
        else:
            super()._shut(code, reason)
