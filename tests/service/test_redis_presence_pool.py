"""A burst of presence changes larger than the Redis pool waits for connections instead of
failing: another process sees every user (a failure would leave them only in the local mirror)."""

from __future__ import annotations

import asyncio
import uuid

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
