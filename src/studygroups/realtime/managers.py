"""The Socket.IO client managers: in memory for one process, Redis for many.

Both managers route the gateway's internal messages (durable events, signals, evictions) to
this process's handler instead of to sockets; with Redis that happens on every process. Room
emits without an ack callback go out through `broadcast_locally` (fanout.py), encoded once per
codec in use.

python-socketio internals this module overrides or relies on (all are listed in compat.py and
checked by tests/unit/test_compat.py): the Redis manager's `_redis_connect` (replaced),
`pubsub`, `redis`, `connected`, `redis_url`, `redis_options`, `host_id` and `_handle_emit`
(extended), besides `_listen`, the hook pub/sub managers document; the manager's `rooms`,
`server` and `get_participants` (`broadcast_locally`).
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

from studygroups.realtime.fanout import EventFrames, queue_to_all
from studygroups.realtime.publisher import DURABLE, EVICT, INTERNAL_EVENTS, SIGNAL
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
                elif delay == 0.25:  # the first failed try since the start or the last success
                    log.warning(
                        "cannot subscribe to the Redis channels %s(.internal) (%s); retrying"
                        " every %s s at most",
                        self.channel,
                        error,
                        self.RETRY_MAX,
                    )
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
