"""CPU of one cluster presence listing (`RedisPresence.present`) for a session of 50 users, in
process against the local Redis: median of 5 rounds of 500 calls.

    .venv/bin/python bench/presence_cpu.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

from studygroups.realtime.redis_presence import RedisPresence


async def main() -> None:
    presence = RedisPresence("redis://127.0.0.1:6379/0", ttl_seconds=30)
    session_id = f"bench-{uuid.uuid4()}"
    for i in range(50):
        await presence.add(session_id, f"u{i}", f"User {i}", f"s{i}")
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(500):
            await presence.present(session_id)
        rounds.append((time.process_time() - started) / 500 * 1e6)
    print(
        f"present(): {statistics.median(rounds):.0f} µs CPU per call ({[round(r) for r in rounds]})"
    )
    await presence.close()


if __name__ == "__main__":
    asyncio.run(main())
