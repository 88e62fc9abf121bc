"""The Socket.IO server and its client managers: in memory for one process, Redis for many.

Both managers route the gateway's internal messages (durable events, evictions) to this
process's handler instead of to sockets; with Redis that happens on every process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio

from studygroups.realtime.fanout import FastJson, encode_event, queue_to_all
from studygroups.realtime.publisher import INTERNAL_EVENTS, NAMESPACE

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


class ClusterManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """Many processes over Redis: every process, this one included, handles internal messages.

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

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        delay = 0.25
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                self.subscribed, delay = True, 0.25
                log.info("subscribed to the Redis channel %s", self.channel)
                if self.on_subscribed is not None:
                    await self.on_subscribed()
                async for message in self.pubsub.listen():
                    yield message
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
    """The fast path of a local room emit (see fanout.py); False when it does not apply."""
    namespace = namespace or "/"
    if namespace not in manager.rooms:
        return True  # nobody connected to the namespace here
    frame = encode_event(manager.server, namespace, event, data)
    if frame is None:
        return False
    skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    queue_to_all(manager.server, frame, manager.get_participants(namespace, room), skip)
    return True


def build_server(manager: LocalManager | ClusterManager, origins: list[str]) -> Any:
    """The AsyncServer with CORS limited to the configured front-end origins."""
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=origins,
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
