"""Sockets enter and leave session rooms in their own process: with Redis, joining and leaving
publishes no room change to the other processes (python-socketio's pub/sub manager publishes one
for a socket it thinks is elsewhere, which a socket being disconnected is)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from studygroups.app import build
from tests.conftest import make_settings, serve
from tests.e2e.clients import Peers
from tests.support import make_session

pytestmark = pytest.mark.redis


async def test_joining_and_leaving_a_session_room_publishes_nothing_to_the_other_processes(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    prefix = f"rooms-{uuid.uuid4().hex[:8]}"
    service = build(make_settings(postgres_url, tmp_path, redis_url=redis_url, redis_prefix=prefix))
    listener = aioredis.from_url(redis_url)
    pubsub = listener.pubsub()
    await pubsub.subscribe(f"{prefix}:events")  # python-socketio's own channel
    try:
        async with serve(service) as live:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as rest:
                scenario = await make_session(rest, ["ana", "bo"])
            peers = Peers(live)
            try:
                ana = await peers.joined("ana", scenario.session_id)
                bo = await peers.joined("bo", scenario.session_id)
                await bo.disconnect()
                await ana.wait_for("userLeft")
            finally:
                await peers.close()
            await asyncio.sleep(0.2)  # anything published meanwhile has reached the listener
        published = []
        while (message := await pubsub.get_message(timeout=0.1)) is not None:
            if message["type"] == "message":
                published.append(message["data"])
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await listener.aclose()
        await service.database.dispose()

    assert not [m for m in published if b"enter_room" in m or b"leave_room" in m], published
