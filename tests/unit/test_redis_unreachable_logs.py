"""A process whose Redis cannot be reached from the start says so in its log, once, instead of
only answering /readyz 503 (an operator reading the log saw nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import pytest

from studygroups.realtime.managers import ClusterManager
from studygroups.realtime.redis_presence import RedisPresence


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and text in r.getMessage()
    ]


async def test_a_channel_that_cannot_be_subscribed_at_start_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = ClusterManager(f"redis://127.0.0.1:{closed_port()}/0", channel="unreachable")

    async def listen() -> None:
        async for _ in manager._listen():
            pass

    caplog.set_level(logging.WARNING)
    task = asyncio.create_task(listen())
    await asyncio.sleep(1.2)  # the first try and two retries (0.25 s, then 0.5 s)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await manager.redis.aclose()

    assert len(warnings_about(caplog, "cannot subscribe to the Redis channels unreachable")) == 1


async def test_a_presence_store_unreachable_from_the_start_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    presence = RedisPresence(f"redis://127.0.0.1:{closed_port()}/0", ttl_seconds=1)
    caplog.set_level(logging.WARNING)
    presence.start()
    await asyncio.sleep(1.2)  # heartbeats every 0.5 s: three failed beats
    await presence.close(withdraw=False)

    assert len(warnings_about(caplog, "presence store unreachable")) == 1
