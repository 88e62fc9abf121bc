"""The internal messages of a cluster (durable events, signals, evictions) travel on a Redis
channel of their own, a loop turn's worth per PUBLISH, handled by every process once and in the
order they were emitted (realtime/managers.py `ClusterManager`). Real Redis, two managers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from studygroups.realtime.managers import ClusterManager
from studygroups.realtime.publisher import DURABLE, EVICT, SIGNAL

pytestmark = pytest.mark.redis


class Process:
    """One process's manager, listening as the server's background task would."""

    def __init__(self, url: str, channel: str) -> None:
        self.manager = ClusterManager(url, channel=channel)
        self.handled: list[tuple[str, Any]] = []
        self.library: list[Any] = []  # what reaches python-socketio's own channel handling
        self.ready = asyncio.Event()

        async def on_internal(event: str, data: Any) -> None:
            self.handled.append((event, data))

        async def on_subscribed() -> None:
            self.ready.set()

        self.manager.on_internal = on_internal
        self.manager.on_subscribed = on_subscribed
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def listen() -> None:
            async for message in self.manager._listen():
                self.library.append(message)

        self._task = asyncio.create_task(listen())
        await asyncio.wait_for(self.ready.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.manager.redis.aclose()


@contextlib.asynccontextmanager
async def cluster(url: str, count: int = 2) -> AsyncIterator[list[Process]]:
    channel = f"test-{uuid.uuid4().hex}"
    processes = [Process(url, channel) for _ in range(count)]
    try:
        for process in processes:
            await process.start()
        yield processes
    finally:
        for process in processes:
            await process.stop()


async def eventually(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert predicate()


def durable(session_id: str, seq: int) -> dict[str, Any]:
    return {"sessionId": session_id, "events": [[seq, "chat.message", {"n": seq}, "t"]]}


async def test_every_process_handles_each_internal_message_once_in_the_order_emitted(
    redis_url: str,
) -> None:
    async with cluster(redis_url) as (a, b):
        sent: list[tuple[str, Any]] = [(DURABLE, durable("s1", seq)) for seq in range(1, 41)]
        sent.insert(10, (SIGNAL, {"event": "chat.typing", "sessionId": "s1", "userId": "u"}))
        sent.insert(20, (EVICT, {"userId": "u", "sessionIds": ["s1"]}))
        await asyncio.gather(*(a.manager.emit(event, data, room="r") for event, data in sent))

        await eventually(lambda: len(b.handled) >= len(sent))
        await asyncio.sleep(0.2)  # time for a duplicate to show, were there one
        assert b.handled == sent
        assert a.handled == sent  # the publisher's own, handled when emitted, not again
        assert a.library == b.library == []


async def test_what_one_loop_turn_emits_leaves_as_one_redis_message(redis_url: str) -> None:
    async with cluster(redis_url, count=1) as (a,):
        watcher = aioredis.Redis.from_url(redis_url)
        pubsub = watcher.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(a.manager.internal_channel)
        try:
            await asyncio.gather(
                *(a.manager.emit(DURABLE, durable("s2", seq), room="r") for seq in range(1, 26))
            )
            messages = []
            deadline = asyncio.get_running_loop().time() + 1.0
            while asyncio.get_running_loop().time() < deadline:
                message = await pubsub.get_message(timeout=0.1)
                if message is not None:
                    messages.append(message)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await watcher.aclose()

        assert len(messages) == 1
        assert messages[0]["data"][:32] == a.manager.host_id.encode()


async def test_an_emit_returns_once_its_message_is_published(redis_url: str) -> None:
    async with cluster(redis_url) as (a, b):
        await a.manager.emit(SIGNAL, {"event": "chat.read", "sessionId": "s3"}, room="r")
        await eventually(lambda: len(b.handled) == 1)
        assert b.handled == [(SIGNAL, {"event": "chat.read", "sessionId": "s3"})]


async def test_without_redis_an_emit_is_still_handled_here_and_counted_as_not_published() -> None:
    manager = ClusterManager("redis://127.0.0.1:1/0", channel=f"test-{uuid.uuid4().hex}")
    manager._redis_connect()
    handled: list[str] = []

    async def on_internal(event: str, data: Any) -> None:
        handled.append(event)

    manager.on_internal = on_internal
    counted: list[bool] = []
    manager.on_publish_failure = lambda: counted.append(True)
    try:
        await asyncio.wait_for(manager.emit(EVICT, {"userId": "u", "sessionIds": []}), 30)
    finally:
        await manager.redis.aclose()
    assert handled == [EVICT]
    assert manager.publish_failures == 1 and counted == [True]


async def test_an_ordinary_emit_still_takes_the_library_channel(redis_url: str) -> None:
    async with cluster(redis_url) as (a, b):
        await a.manager.emit("chat.typing", {"x": 1}, namespace="/study-groups", room="r")
        await eventually(lambda: len(b.library) == 1)
        assert a.handled == b.handled == []


async def test_an_internal_message_an_older_release_publishes_on_the_library_channel_is_handled(
    redis_url: str,
) -> None:
    channel = f"test-{uuid.uuid4().hex}"
    process = Process(redis_url, channel)
    task = asyncio.create_task(process.manager._thread())  # the library's loop over `_listen`
    older = aioredis.Redis.from_url(redis_url)
    try:
        await asyncio.wait_for(process.ready.wait(), 10)
        data = durable("s4", 7)
        message = {
            "method": "emit",
            "event": DURABLE,
            "data": [data],
            "binary": False,
            "namespace": "/study-groups",
            "room": "session:s4",
            "skip_sid": None,
            "callback": None,
            "host_id": "an-older-process",
        }
        await older.publish(channel, json.dumps(message))
        await eventually(lambda: len(process.handled) == 1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await older.aclose()
        await process.manager.redis.aclose()
    assert process.handled == [(DURABLE, data)]


async def test_a_message_with_an_integer_beyond_64_bits_reaches_the_other_process_whole(
    redis_url: str,
) -> None:
    async with cluster(redis_url) as (a, b):
        data = {"event": "chat.typing", "sessionId": "s5", "n": 2**70}
        await asyncio.gather(
            a.manager.emit(SIGNAL, data, room="r"),
            a.manager.emit(EVICT, {"userId": "u", "sessionIds": ["s5"]}, room="r"),
        )
        await eventually(lambda: len(b.handled) == 2)
        assert b.handled == [(SIGNAL, data), (EVICT, {"userId": "u", "sessionIds": ["s5"]})]
