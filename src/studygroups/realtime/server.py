"""The Socket.IO server and its client managers: in memory for one process, Redis for many.

Both managers route the gateway's internal messages (durable events, evictions) to this
process's handler instead of to sockets; with Redis that happens on every process.

`GatedServer` also keeps the codec (wire format, codecs.py) of each Engine.IO session: JSON at
/socket.io/, msgpack at /socket.io-msgpack/. It decodes every packet and encodes every ack in
the socket's codec; room emits encode once per codec in use (`broadcast_locally`, fanout.py).

`GatedServer` checks every packet a client sends before python-socketio acts on it (the policy
is inbound.py's, documented in docs/security.md): only the contract's client events reach a
handler, at a bounded rate; binary packets are refused and their attachments never buffered;
malformed packets are dropped and counted, never a traceback. It does so where the packet is
decoded, so a client event named `connect` is told apart from the library's own connect call.

python-socketio internals this module overrides or relies on (see also packets.py; all are
listed in compat.py and checked by tests/unit/test_compat.py):

* `AsyncServer._handle_eio_message` (replaced: decoding, in the socket's codec, and dispatch of
  each Engine.IO message, without the library's `_binary_packet` buffer), `_handle_eio_connect`
  and `_handle_eio_disconnect` (extended: the session's codec), `_send_packet` (extended: a
  packet is re-built in the socket's codec) and `_engineio_server_class`
  (packets.CheckedEngineServer).
* Called as the library does: `packet_class`, `_handle_connect`, `_handle_disconnect`,
  `_handle_event`, `_handle_ack`, `_send_packet`, `environ`, `manager.sid_from_eio_sid`,
  `manager.is_connected`; the Redis manager's `_redis_connect` (replaced), `pubsub`, `redis`,
  `connected`, `redis_url`, `redis_options`, `host_id` and `_handle_emit`
  (extended), besides `_listen`, the hook pub/sub managers document; Engine.IO's
  `eio.sockets`, `AsyncSocket.close(wait=False)` and the `None` that ends an `AsyncSocket`'s
  queue (and so its WebSocket writer).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import socketio
from socketio import packet as sio_packet

from studygroups.realtime.codecs import JSON, Codec, codec_for_path, json_compatible
from studygroups.realtime.fanout import EventFrames, FastJson, OutboundPacket, queue_to_all
from studygroups.realtime.inbound import CLIENT_EVENTS, InboundGate, Verdict, refusal, sample
from studygroups.realtime.packets import CheckedEngineServer
from studygroups.realtime.publisher import DURABLE, EVICT, INTERNAL_EVENTS, NAMESPACE, SIGNAL
from studygroups.realtime.redis_pool import waiting_client

log = logging.getLogger("studygroups.realtime")

InternalHandler = Callable[[str, Any], Awaitable[None]]


class LocalManager(socketio.AsyncManager):  # type: ignore[misc]
    """One process: internal messages go straight to the handler."""

    def __init__(self) -> None:
        super().__init__()
        self.on_internal: InternalHandler | None = None

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if event in INTERNAL_EVENTS:
            assert self.on_internal is not None
            await self.on_internal(event, data)
            return
        if callback is None and broadcast_locally(
            self, event, data, namespace, to or room, skip_sid
        ):
            return
        await super().emit(
            event, data, namespace=namespace, room=to or room, skip_sid=skip_sid, callback=callback
        )


# Internal messages on their own channel: one letter per kind, then the message.
_KIND_OF = {DURABLE: "d", EVICT: "e", SIGNAL: "s"}
_EVENT_OF = {kind: event for event, kind in _KIND_OF.items()}
_ITEM_START = {event: f'["{kind}",'.encode() for event, kind in _KIND_OF.items()}


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # what orjson refuses (integers beyond 64 bits): as the library did
        return json.dumps(value, separators=(",", ":")).encode()


class ClusterManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """Many processes over Redis: every process, this one included, handles internal messages.

    The internal messages (durable events, signals, evictions) do not take the library's path
    (a dict per emit, a scan for binary data, one PUBLISH each, decoded by every process, the
    publisher included, on the one channel). They travel on a channel of their own,
    `<channel>.internal`: the publisher hands each to its own process at once, as before, and
    queues it; what a loop turn queued leaves as ONE PUBLISH — the publisher's host id, then a
    JSON list of [kind, data] in emit order — with one batch in flight at a time, so a process's
    messages reach the others in the order it emitted them. Each emitter waits until its batch
    was published (or failed: logged, and `publish_failures` counts it; durable events are
    then caught up from the log like any lost message, see publisher.py). A process skips its
    own batches by their first 32 bytes, without decoding them.

    The subscription is retried with a backoff capped at RETRY_MAX seconds (the library's grows
    to a minute), and every (re)subscription calls `on_subscribed`, so the gateway can fill
    its rooms from the event log with whatever was published while the link was down.
    """

    RETRY_MAX = 5.0

    def __init__(self, url: str, channel: str = "studygroups") -> None:
        super().__init__(
            url,
            channel=channel,
            redis_options={"socket_connect_timeout": 1.0, "health_check_interval": 5},
        )
        self.on_internal: InternalHandler | None = None
        self.on_subscribed: Callable[[], Awaitable[None]] | None = None
        self.subscribed = False
        self.internal_channel = f"{channel}.internal"
        self._host = self.host_id.encode("ascii")  # 32 hex digits
        self._outbox: list[bytes] = []  # [kind, data] items, encoded, of the batch to come
        self._published: asyncio.Event | None = None  # set when the batch to come is out
        self._sender: asyncio.Task[None] | None = None
        self.publish_failures = 0  # internal batches Redis did not take
        self.on_publish_failure: Callable[[], None] | None = None  # the app's metric

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if event not in INTERNAL_EVENTS or kwargs.get("ignore_queue"):
            await super().emit(
                event,
                data,
                namespace=namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
            return
        published = self._queue(_ITEM_START[event] + _dumps(data) + b"]")
        assert self.on_internal is not None
        await self.on_internal(event, data)  # this process first, as the library's emit does
        await published.wait()

    def _queue(self, item: bytes) -> asyncio.Event:
        """Add an item to the batch to come; the event is set once that batch is out."""
        self._outbox.append(item)
        published = self._published
        if published is None:
            published = self._published = asyncio.Event()
        if self._sender is None:
            # A task starts on the next loop turn: whatever this turn emits joins the batch.
            self._sender = asyncio.get_running_loop().create_task(self._send_batches())
        return published

    async def _send_batches(self) -> None:
        """Publish the queued batches one at a time, until none is left."""
        try:
            while self._outbox:
                batch, published = self._outbox, self._published
                self._outbox, self._published = [], None
                try:
                    await self._publish_batch(b"".join((self._host, b"[", b",".join(batch), b"]")))
                finally:
                    assert published is not None
                    published.set()
        finally:
            self._sender = None
            if self._outbox:  # cancelled (shutting down): nobody waits for what is left
                assert self._published is not None
                self._published.set()
                self._outbox, self._published = [], None

    async def _publish_batch(self, message: bytes) -> None:
        for attempt in (1, 2):  # as the library: a second try, then the message is given up
            try:
                await self.redis.publish(self.internal_channel, message)
                return
            except Exception as error:  # noqa: BLE001 -- Redis down or gone: logged, counted
                if attempt == 2:
                    self.publish_failures += 1
                    if self.on_publish_failure is not None:
                        self.on_publish_failure()
                    log.error("could not publish internal messages to Redis (%s)", error)

    async def _receive_internal(self, message: bytes) -> None:
        """A batch of another process's internal messages, handled in the order emitted."""
        if message[:32] == self._host:
            return  # ours, already handled when emitted
        assert self.on_internal is not None
        try:
            items = orjson.loads(message[32:])
        except orjson.JSONDecodeError:
            try:  # what `_dumps` wrote with json (integers beyond 64 bits)
                items = json.loads(message[32:])
            except ValueError:
                log.error("an undecodable internal message on %s", self.internal_channel)
                return
        for kind, data in items:
            try:
                await self.on_internal(_EVENT_OF[kind], data)
            except Exception:
                log.exception("internal message %s failed", _EVENT_OF.get(kind, kind))

    def _redis_connect(self) -> None:
        """As the library's, on a pool where a publish waits for a free connection (see
        redis_pool.py): the library's pool fails past 100 at once, and it gives up on a
        publish after two failures."""
        if urlsplit(self.redis_url).scheme.endswith("+sentinel"):
            super()._redis_connect()
            return
        self.redis = waiting_client(self.redis_url, **self.redis_options)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def _listen(self) -> AsyncIterator[Any]:
        """The pub/sub manager's documented hook: the data of each message on the channel."""
        channel = self.channel.encode("utf-8")
        internal = self.internal_channel.encode("utf-8")
        delay = 0.25
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel, self.internal_channel)
                self.subscribed, delay = True, 0.25
                log.info("subscribed to the Redis channels %s(.internal)", self.channel)
                if self.on_subscribed is not None:
                    await self.on_subscribed()
                async for message in self.pubsub.listen():
                    if message.get("type") != "message" or "data" not in message:
                        continue
                    if message.get("channel") == internal:
                        await self._receive_internal(message["data"])
                    elif message.get("channel") == channel:
                        yield message["data"]
            except Exception as error:  # noqa: BLE001 -- any failure: reconnect after a pause
                if self.subscribed:
                    log.warning("lost the Redis channel (%s); retrying", error)
                self.subscribed = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MAX)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        data = message["data"]
        if message.get("event") in INTERNAL_EVENTS:
            assert self.on_internal is not None
            await self.on_internal(message["event"], data[0] if isinstance(data, list) else data)
            return
        if (
            not message.get("binary")
            and message.get("callback") is None
            and isinstance(data, list)
            and broadcast_locally(
                self,
                message["event"],
                data[0] if len(data) == 1 else tuple(data),
                message.get("namespace"),
                message.get("room"),
                message.get("skip_sid"),
            )
        ):
            return
        await super()._handle_emit(message)


def broadcast_locally(
    manager: Any, event: str, data: Any, namespace: str | None, room: Any, skip_sid: Any
) -> bool:
    """The local room emit of every event without an ack callback (see fanout.py): encoded
    once per codec in use among the recipients. Always True: python-socketio's own path,
    which would write JSON to a msgpack socket, is only left for emits with a callback."""
    namespace = namespace or "/"
    if namespace not in manager.rooms:
        return True  # nobody connected to the namespace here
    skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    frames = EventFrames(namespace, event, data)
    queue_to_all(manager.server, frames, manager.get_participants(namespace, room), skip)
    return True


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
        """Disconnect a flooding socket now. Not `eio.disconnect`: it waits until a long-polling
        client has read the CLOSE packet (which a flooding client need never do), and a request
        for a closed session still in `eio.sockets` escapes python-engineio as a traceback."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is None:
            return
        await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
        if self.eio.sockets.get(eio_sid) is socket:
            del self.eio.sockets[eio_sid]
        queue = getattr(socket, "queue", None)  # python-engineio's socket (a native one has none)
        if queue is not None:
            queue.put_nowait(None)  # its writer sends the CLOSE, then ends (closing a WebSocket)

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
