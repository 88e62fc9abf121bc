"""CPU of cluster presence (`RedisPresence`) for a session of 50 users, in process against the
local Redis: a listing (`present`), and a join's count-in and listing with the socket counted
out again (`enter` + `remove`); median of 5 rounds of 500 calls each.

    .venv/bin/python bench/presence_cpu.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from studygroups.realtime.redis_presence import RedisPresence


async def per_call(step: Callable[[int], Awaitable[object]]) -> tuple[float, list[int]]:
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for i in range(500):
            await step(i)
        rounds.append((time.process_time() - started) / 500 * 1e6)
    return statistics.median(rounds), [round(r) for r in rounds]


async def main() -> None:
    presence = RedisPresence("redis://127.0.0.1:6379/0", ttl_seconds=30)
    session_id = f"bench-{uuid.uuid4()}"
    for i in range(50):
        await presence.enter(session_id, f"u{i}", f"User {i}", f"s{i}")

    async def listing(_: int) -> object:
        return await presence.present(session_id)

    async def join_and_leave(i: int) -> object:
        await presence.enter(session_id, "u-joiner", "Joiner", f"j{i}")
        return await presence.remove(session_id, "u-joiner", f"j{i}")

    for name, step in (("present()", listing), ("enter() + remove()", join_and_leave)):
        median, rounds = await per_call(step)
        print(f"{name}: {median:.0f} µs CPU per call ({rounds})")
    await presence.close()


if __name__ == "__main__":
    asyncio.run(main())
