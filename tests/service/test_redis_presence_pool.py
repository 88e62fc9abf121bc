"""A burst of presence changes larger than the Redis pool waits for connections instead of
failing: another process sees every user (a failure would leave them only in the local mirror)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from studygroups.realtime.redis_presence import RedisPresence


async def test_a_burst_larger_than_the_pool_reaches_redis_and_every_process_sees_it(
    redis_url: str,
) -> None:
    session_id = f"pool-{uuid.uuid4()}"
    here = RedisPresence(redis_url, ttl_seconds=30, pool_size=2)
    there = RedisPresence(redis_url, ttl_seconds=30)
    users = [f"u{i}" for i in range(60)]
    try:
        firsts = await asyncio.gather(
            *(here.enter(session_id, user, user.upper(), f"sid-{user}") for user in users)
        )
        seen_there = await there.present(session_id)
        lasts = await asyncio.gather(
            *(here.remove(session_id, user, f"sid-{user}") for user in users)
        )
        left_there = await there.present(session_id)
    finally:
        await here.close()
        await there.close()

    assert [first for first, _ in firsts] == [True] * len(users)
    assert sorted(p["userId"] for p in seen_there) == sorted(users)
    assert lasts == [True] * len(users)
    assert left_there == []


async def test_a_first_start_is_not_logged_as_a_recovery(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="studygroups.presence")
    presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"first-{uuid.uuid4().hex}")
    try:
        await presence.enter("s", "ana", "Ana", "sid-1")
    finally:
        await presence.close()
    said = [record.getMessage() for record in caplog.records]
    assert "presence store reachable" in said
    assert not any("again" in line for line in said)
