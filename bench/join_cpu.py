"""CPU of a join's reads, in process: `python bench/join_cpu.py [--postgres] [--calls N]`.

Builds the app on a fresh migrated database (SQLite file, or with --postgres a database of its
own on 127.0.0.1:5432, dropped at the end), makes one started session with a few members and
50 chat messages through the REST API, then times the reads a `joinSession {lastSeq: 0}` makes:
the membership and head check (`EventFeed.authorize_join`) and the replay of the 50 events
(`EventFeed.replay`). Prints process CPU per call (median of 5 rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx

from chat_cpu import SECRET, _auth, _setup
from studygroups.app import build
from studygroups.config import Settings
from studygroups.identity import Identity
from studygroups.storage.migrate import upgrade

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


async def per_call(step: Callable[[], Awaitable[object]], calls: int) -> tuple[float, list[int]]:
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls):
            await step()
        rounds.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(rounds), [round(r) for r in rounds]


async def measure(url: str, folder: str, calls: int) -> None:
    await upgrade(url)
    service = build(Settings(database_url=url, jwt_secret=SECRET, data_dir=Path(folder)))
    try:
        transport = httpx.ASGITransport(app=service.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            members = ["ana", "bo", "cy"]
            group_id, session_id = await _setup(http, members)
            for i in range(50):
                posted = await http.post(
                    f"/groups/{group_id}/sessions/{session_id}/chat",
                    json={"round_index": 1, "message": f"message {i}"},
                    headers=_auth(members[i % 3]),
                )
                assert posted.status_code == 201, posted.text
        feed = service.gateway._rooms._feed  # the join's reader, as the gateway wires it
        bo = Identity("bo", "bo@example.org", "Bo")
        head = await feed.authorize_join(bo, session_id)

        async def check() -> object:
            return await feed.authorize_join(bo, session_id)

        async def replay() -> object:
            return await feed.replay(session_id, 0, head, max_events=500, max_bytes=1 << 20)

        for name, step in (("authorize_join", check), (f"replay of {head}", replay)):
            median, rounds = await per_call(step, calls)
            print(f"{name}: {median:.0f} µs CPU per call ({rounds})")
    finally:
        await service.database.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--calls", type=int, default=500, help="calls per round (500)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if not args.postgres:
            await measure(f"sqlite+aiosqlite:///{folder}/bench.db", folder, args.calls)
            return
        name = f"bench_join_{os.getpid()}"
        admin = await asyncpg.connect(ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
            await measure(url, folder, args.calls)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
