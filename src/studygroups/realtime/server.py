"""The Socket.IO server: `GatedServer`, built on a client manager of managers.py, and the emit
to this process's sockets only (`local_emit`).

`GatedServer` also keeps the codec (wire format, codecs.py) of each Engine.IO session: JSON at
/socket.io/, msgpack at /socket.io-msgpack/. It decodes every packet and encodes every ack in
the socket's codec; room emits encode once per codec in use (`broadcast_locally`, fanout.py).

`GatedServer` checks every packet a client sends before python-socketio acts on it (the policy
is inbound.py's, documented in docs/security.md): only the contract's client events reach a
handler, at a bounded rate; binary packets are refused and their attachments never buffered;
malformed packets are dropped and counted, never a traceback. It does so where the packet is
decoded, so a client event named `connect` is told apart from the library's own connect call.

python-socketio internals this module overrides or relies on (see also packets.py and
managers.py; all are listed in compat.py and checked by tests/unit/test_compat.py):

* `AsyncServer._handle_eio_message` (replaced: decoding, in the socket's codec, and dispatch of
  each Engine.IO message, without the library's `_binary_packet` buffer), `_handle_eio_connect`
  and `_handle_eio_disconnect` (extended: the session's codec), `_send_packet` (extended: a
  packet is re-built in the socket's codec) and `_engineio_server_class`
  (packets.CheckedEngineServer).
* Called as the library does: `packet_class`, `_handle_connect`, `_handle_disconnect`,
  `_handle_event`, `_handle_ack`, `_send_packet`, `environ`, `manager.sid_from_eio_sid`,
  `manager.is_connected`; Engine.IO's `eio.sockets`, `AsyncSocket.close(wait=False)` and the
  `None` that ends an `AsyncSocket`'s queue (and so its WebSocket writer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import socketio
from engineio.async_socket import AsyncSocket as EngineSocket
from socketio import packet as sio_packet

from studygroups.realtime.codecs import JSON, Codec, codec_for_path, json_compatible
from studygroups.realtime.fanout import FastJson, OutboundPacket
from studygroups.realtime.inbound import CLIENT_EVENTS, InboundGate, Verdict, refusal, sample
from studygroups.realtime.managers import ClusterManager, LocalManager, broadcast_locally
from studygroups.realtime.packets import CheckedEngineServer
from studygroups.realtime.publisher import NAMESPACE

# The largest Socket.IO packet a client sends that is decoded: the contract's client events are
# a few hundred bytes, a token a few kilobytes.
PACKET_MAX = 8 * 1024


def packet_header(text: str) -> sio_packet.Packet | None:
    """The type, namespace and ack id of a JSON EVENT (`2/nsp,12[...]`, with an ack id) or
    CONNECT (`0/nsp,{...}`) packet, read from its header only; None for anything else."""
    kind = text[:1]
    if kind not in ("0", "2"):
        return None
    at, namespace = 1, None
    if text.startswith("/", at):
        comma = text.find(",", at, at + 256)
        if comma < 0:
            return None
        namespace, at = text[at:comma], comma + 1
    if kind == "0":
        return sio_packet.Packet(sio_packet.CONNECT, namespace=namespace)
    end = at
    while end < len(text) and end - at < 16 and text[end].isdigit():
        end += 1
    if end == at:
        return None
    return sio_packet.Packet(sio_packet.EVENT, namespace=namespace, id=int(text[at:end]))


class GatedServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's AsyncServer with every inbound packet checked by the `InboundGate`."""

    def __init__(self, *, gate: InboundGate, **options: Any) -> None:
        super().__init__(**options)
        if self.packet_class is sio_packet.Packet:  # type: ignore[has-type]
            self.packet_class = OutboundPacket  # the same packets, a cheaper check for bytes
        self.gate = gate
        self.eio.gate = gate
        # The codec of every Engine.IO session that does not speak JSON, by sid (codecs.py).
        self.codecs: dict[str, Codec] = {}

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        """A new Engine.IO session: its codec is the one of the path its handshake came to."""
        codec = codec_for_path(str(environ.get("PATH_INFO", "")))
        if codec is not JSON:
            self.codecs[eio_sid] = codec
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        """Acks, connect answers, disconnects: in the codec of the socket they go to."""
        codec = self.codecs.get(eio_sid)
        if codec is not None and not isinstance(pkt, codec.packet_class):
            kind = pkt.packet_type
            if kind in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
                kind -= sio_packet.BINARY_EVENT - sio_packet.EVENT  # msgpack has no such types
            pkt = codec.packet_class(kind, data=pkt.data, namespace=pkt.namespace, id=pkt.id)
        await super()._send_packet(eio_sid, pkt)

    def _engineio_server_class(self) -> type[CheckedEngineServer]:
        return CheckedEngineServer

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        if eio_sid not in self.environ:
            return  # the connection is gone: nothing to answer, nothing to keep
        verdict = self.gate.admit(eio_sid)
        if verdict is Verdict.CLOSE:
            await self._close_flooding(eio_sid)
        if verdict in (Verdict.CLOSE, Verdict.DROP):
            return
        codec = self.codecs.get(eio_sid, JSON)
        if isinstance(data, bytes) and not codec.binary:
            # An attachment of a binary packet, refused when its header came: dropped here.
            self.gate.refuse("binary")
            return
        if len(data) > PACKET_MAX:
            # Not decoded at all: a packet's decoding (and the msgpack one's check that JSON
            # could carry it) costs per value, and 1 MB of empty arrays held the loop 2.4 s.
            # A JSON event's ack id is in its header, read without the payload: it is answered.
            self.gate.malformed(eio_sid, f"a Socket.IO packet of {len(data):,} bytes")
            header = packet_header(data) if isinstance(data, str) else None
            too_large = f"a packet over {PACKET_MAX:,} bytes"
            if header is not None and header.packet_type == sio_packet.EVENT:
                await self._answer(eio_sid, header, refusal("BAD_REQUEST", too_large))
            elif header is not None and header.packet_type == sio_packet.CONNECT:
                # socket.io-client waits for an answer to its CONNECT (an oversized token)
                refused = sio_packet.CONNECT_ERROR
                await self._send_packet(
                    eio_sid,
                    self.packet_class(refused, {"message": too_large}, header.namespace),
                )
            return
        try:
            pkt = codec.packet_class(encoded_packet=data)
        except Exception as error:  # noqa: BLE001 -- whatever fails to decode is the client's fault
            self.gate.malformed(eio_sid, f"{type(error).__name__} decoding {sample(data)}")
            return
        kind = pkt.packet_type
        if kind in (sio_packet.EVENT, sio_packet.BINARY_EVENT):
            await self._gate_event(eio_sid, pkt, verdict)
        elif verdict is Verdict.REFUSE:
            return
        elif kind == sio_packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == sio_packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif kind == sio_packet.ACK and isinstance(pkt.data, list):
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind == sio_packet.BINARY_ACK:
            self.gate.refuse("binary")
        else:
            self.gate.malformed(eio_sid, f"Socket.IO packet type {kind!r}")

    async def _close_flooding(self, eio_sid: str) -> None:
        await self.eio.close_flooding(eio_sid)

    async def _gate_event(self, eio_sid: str, pkt: Any, verdict: Verdict) -> None:
        """Hand an event to python-socketio only if it is a client event of the contract."""
        if verdict is Verdict.REFUSE:
            await self._answer(eio_sid, pkt, refusal("RATE_LIMITED", "too many events; slow down"))
            return
        if pkt.packet_type == sio_packet.BINARY_EVENT:
            self.gate.refuse("binary")
            await self._answer(
                eio_sid, pkt, refusal("BAD_REQUEST", "binary attachments are not accepted")
            )
            return
        data = pkt.data
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            self.gate.malformed(eio_sid, "an event without a name")
            await self._answer(eio_sid, pkt, refusal("BAD_REQUEST", "an event needs a name"))
            return
        if data[0] not in CLIENT_EVENTS:
            self.gate.refuse("unknown_event")
            await self._answer(
                eio_sid, pkt, refusal("BAD_REQUEST", f"unknown event {data[0][:64]!r}")
            )
            return
        if eio_sid in self.codecs and not json_compatible(data):
            # msgpack can carry what JSON cannot (bytes, non-string keys): refused alike.
            self.gate.refuse("binary")
            await self._answer(
                eio_sid, pkt, refusal("BAD_REQUEST", "binary values are not accepted")
            )
            return
        await self._handle_event(eio_sid, pkt.namespace, pkt.id, data)

    async def _answer(self, eio_sid: str, pkt: Any, body: dict[str, Any]) -> None:
        """Ack a refused event, if it asked for an ack on a namespace the socket is in."""
        namespace = pkt.namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if pkt.id is None or sid is None or not self.manager.is_connected(sid, namespace):
            return
        ack = self.packet_class(sio_packet.ACK, namespace=namespace, id=pkt.id, data=[body])
        await self._send_packet(eio_sid, ack)

    async def end_library_sockets(self) -> None:
        """The process is shutting down: every socket python-engineio serves (long-polling, or
        a WebSocket when the native path is off) is closed now with a CLOSE packet, which its
        pending GET answers at once. Its client reconnects right away, and that GET no longer
        holds the exit until the graceful timeout (5 s) to be cut with a 400. Native sockets
        were told already (engine.py `NativeSocket.shutdown`); the app hears these disconnects
        as a restart (`draining`: presence left to expire, no userLeft)."""
        self.eio.draining = True
        for socket in list(self.eio.sockets.values()):
            if isinstance(socket, EngineSocket) and not (socket.closed or socket.closing):
                await socket.close(wait=False)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        await super()._handle_eio_disconnect(eio_sid, reason)
        self.gate.forget(eio_sid)
        self.codecs.pop(eio_sid, None)


def origin_policy(origins: list[str]) -> Callable[[str | None, dict[str, Any]], bool]:
    """Browsers may connect from the configured front-end origins, and from a page this server
    served itself (the console at /: its origin names the host and port the request came to).
    A refused origin is refused at the handshake, as before."""
    listed = set(origins)

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin in listed:
            return True
        parts = urlsplit(origin or "")
        host = environ.get("HTTP_HOST")
        return bool(host) and parts.scheme in ("http", "https") and parts.netloc == host

    return allowed


def build_server(
    manager: LocalManager | ClusterManager, origins: list[str], gate: InboundGate
) -> Any:
    """The Socket.IO server with CORS limited to the configured front-end origins and the
    server's own pages."""
    return GatedServer(
        gate=gate,
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=origin_policy(origins),
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=1_000_000,
        json=FastJson,  # as Socket.IO's default; larger frames close the socket
        namespaces=[NAMESPACE],
    )


async def local_emit(
    server: Any, event: str, data: Any, room: str, skip_sids: list[str] | None
) -> None:
    """Emit to this process's sockets only (never through Redis)."""
    if broadcast_locally(server.manager, event, data, NAMESPACE, room, skip_sids):
        return
    await server.manager.emit(
        event, data, namespace=NAMESPACE, room=room, skip_sid=skip_sids, ignore_queue=True
    )
