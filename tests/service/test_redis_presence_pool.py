"""A burst of presence changes larger than the Redis pool waits for connections instead of
failing: another process sees every user (a failure would leave them only in the local mirror)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from studygroups.realtime.redis_presence import RedisPresence
from studygroups.stopping import stop


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


async def test_enters_of_one_turn_answer_as_if_made_one_after_another(redis_url: str) -> None:
    """Joins entering in one loop turn share a pipeline: each still learns whether it is its
    user's first socket, and who is present with it (the last to enter sees both users)."""
    session_id = f"turn-{uuid.uuid4()}"
    presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"turn-{uuid.uuid4().hex}")
    try:
        await presence.enter(f"{session_id}-other", "cy", "Cy", "sid-cy")  # Redis reached once
        answers = await asyncio.gather(
            presence.enter(session_id, "ana", "Ana", "sid-ana-1"),
            presence.enter(session_id, "ben", "Ben", "sid-ben"),
            presence.enter(session_id, "ana", "Ana", "sid-ana-2"),  # her second socket
        )
    finally:
        await presence.close()

    firsts = [first for first, _ in answers]
    assert firsts == [True, True, False]
    present = [sorted(p["userId"] for p in listed) for _, listed in answers]
    assert present == [["ana"], ["ana", "ben"], ["ana", "ben"]]


async def test_presence_closed_while_its_first_connection_opens_always_stops(
    redis_url: str,
) -> None:
    """redis-py can lose a cancellation while it opens a connection: a process SIGTERMed in
    its first moments would wait forever for the heartbeat to stop (it hit about one start in
    four). Each close here lands at another moment of the first heartbeat's connect."""
    slow = []
    for attempt in range(40):
        presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"stop-{uuid.uuid4().hex}")
        presence.start()
        await asyncio.sleep((attempt % 20) * 0.0002)
        closing = asyncio.create_task(presence.close(withdraw=False))
        await asyncio.wait({closing}, timeout=3)  # not cancelled: a cancel would unstick it
        if not closing.done():
            slow.append(attempt)
            await stop(closing)
    assert slow == []
