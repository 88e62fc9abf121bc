"""A burst of presence changes larger than the Redis pool waits for connections instead of
failing: another process sees every user (a failure would leave them only in the local mirror)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from redis.asyncio import Redis

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


async def _script_exists_calls(probe: Redis) -> int:
    stats = await probe.info("commandstats")
    return int(stats.get("cmdstat_script|exists", {}).get("calls", 0))


async def test_enters_of_one_turn_go_to_redis_in_one_round_trip_without_asking_for_scripts(
    redis_url: str,
) -> None:
    """redis-py's pipeline asks SCRIPT EXISTS before every batch of scripts: a round trip more
    for every batch of joins, each costing a loop turn in a storm."""
    session_id = f"trip-{uuid.uuid4()}"
    presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"trip-{uuid.uuid4().hex}")
    probe = Redis.from_url(redis_url)
    try:
        await presence.enter(f"{session_id}-other", "cy", "Cy", "sid-cy")  # Redis reached once
        before = await _script_exists_calls(probe)
        answers = await asyncio.gather(
            *(presence.enter(session_id, f"u{i}", f"U{i}", f"sid-{i}") for i in range(20))
        )
        after = await _script_exists_calls(probe)
    finally:
        await presence.close()
        await probe.aclose()

    assert [first for first, _ in answers] == [True] * 20
    assert len(answers[-1][1]) == 20  # the last one in sees everyone
    assert after == before


async def test_enters_of_one_turn_after_redis_lost_its_scripts_each_count_once(
    redis_url: str,
) -> None:
    session_id = f"flushed-{uuid.uuid4()}"
    presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"flushed-{uuid.uuid4().hex}")
    probe = Redis.from_url(redis_url)
    try:
        await presence.enter(f"{session_id}-other", "cy", "Cy", "sid-cy")  # Redis reached once
        await probe.script_flush()  # as after a Redis restart
        answers = await asyncio.gather(
            presence.enter(session_id, "ana", "Ana", "sid-ana-1"),
            presence.enter(session_id, "ben", "Ben", "sid-ben"),
            presence.enter(session_id, "ana", "Ana", "sid-ana-2"),
        )
        present = await presence.present(session_id)
    finally:
        await presence.close()
        await probe.aclose()

    assert [first for first, _ in answers] == [True, True, False]
    assert [p["userId"] for p in present] == ["ana", "ben"]


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


async def test_users_entering_before_redis_was_first_reached_are_each_their_first_socket(
    redis_url: str,
) -> None:
    """A restarted process reaches Redis with its first joins: each new user is still
    announced (`userJoined`) to the others."""
    session_id = f"cold-{uuid.uuid4()}"
    presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"cold-{uuid.uuid4().hex}")
    try:
        answers = await asyncio.gather(
            presence.enter(session_id, "ana", "Ana", "sid-ana"),
            presence.enter(session_id, "ben", "Ben", "sid-ben"),
            presence.enter(session_id, "cy", "Cy", "sid-cy"),
        )
        later = await presence.enter(session_id, "ana", "Ana", "sid-ana-2")
    finally:
        await presence.close()

    assert [first for first, _ in answers] == [True, True, True]
    assert later[0] is False  # her second socket
    assert sorted(p["userId"] for p in later[1]) == ["ana", "ben", "cy"]


async def test_joins_arriving_before_redis_was_reached_write_their_entries_back_once(
    redis_url: str,
) -> None:
    """After a restart the first joins all arrive before Redis has been reached: they share
    one write-back of the process's entries (each used to write back every entry so far: 50
    joins, ~2,500 commands)."""
    session_id = f"once-{uuid.uuid4()}"
    presence = RedisPresence(redis_url, ttl_seconds=30, prefix=f"once-{uuid.uuid4().hex}")
    probe = Redis.from_url(redis_url)
    try:
        before = (await probe.info("stats"))["total_commands_processed"]
        answers = await asyncio.gather(
            *(presence.enter(session_id, f"u{i}", f"U{i}", f"sid-{i}") for i in range(50))
        )
        after = (await probe.info("stats"))["total_commands_processed"]
    finally:
        await presence.close()
        await probe.aclose()

    assert [first for first, _ in answers] == [True] * 50
    assert after - before < 1000  # one write-back and 50 enters (~400), not 50 (~5,500)
