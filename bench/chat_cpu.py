"""CPU cost of one chat POST, in process: `python bench/chat_cpu.py [--posts N] [--profile]`.

Builds the app on a fresh migrated SQLite file (or, with `--postgres URL`, on a fresh database
made on that server and dropped afterwards), makes one group and started session with a few
members through the REST API, then sends N chat POSTs one after the other through
httpx.ASGITransport (or straight into the ASGI app with --raw, leaving httpx's own cost out)
and prints the process CPU time (all threads, aiosqlite's included) and wall time per POST.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from studygroups.app import Service, build
from studygroups.config import Settings
from studygroups.identity import mint_token
from studygroups.ratelimit import Limit, RateLimiter
from studygroups.storage.migrate import upgrade

SECRET = "bench-secret-that-is-long-enough-for-hs256"
Post = Callable[[int], Awaitable[int]]


def _auth(user: str) -> dict[str, str]:
    token = mint_token(SECRET, user, user.capitalize(), f"{user}@example.org", None)
    return {"Authorization": f"Bearer {token}"}


async def _setup(http: httpx.AsyncClient, members: list[str]) -> tuple[str, str]:
    owner = members[0]
    made = await http.post("/groups", json={"name": "bench"}, headers=_auth(owner))
    assert made.status_code == 201, made.text
    group_id = str(made.json()["id"])
    for user in members[1:]:
        invite = await http.post(
            f"/groups/{group_id}/members/invite",
            json={"user_id": user, "role": "MEMBER"},
            headers=_auth(owner),
        )
        assert invite.status_code == 201, invite.text
        accept = await http.post(f"/groups/{group_id}/members/accept", headers=_auth(user))
        assert accept.status_code == 200, accept.text
    session = await http.post(
        f"/group-sessions?groupId={group_id}", json={"rounds_count": 1}, headers=_auth(owner)
    )
    assert session.status_code == 201, session.text
    session_json: dict[str, Any] = session.json()
    session_id = str(session_json["id"])
    facilitator = next(m["user_id"] for m in session_json["members"] if m["role"] == "FACILITATOR")
    started = await http.put(f"/group-sessions/{session_id}/start", headers=_auth(str(facilitator)))
    assert started.status_code == 200, started.text
    return group_id, session_id


def _httpx_poster(http: httpx.AsyncClient, path: str, members: list[str]) -> Post:
    headers = [_auth(user) for user in members]

    async def post(i: int) -> int:
        body = {"round_index": 1, "message": f"<b>message</b> number {i}"}
        response = await http.post(path, json=body, headers=headers[i % len(headers)])
        return response.status_code

    return post


def _raw_poster(app: Any, path: str, members: list[str]) -> Post:
    """Call the ASGI app with a hand-made scope: the server's cost without a client library."""
    tokens = [_auth(user)["Authorization"].encode() for user in members]

    async def post(i: int) -> int:
        body = orjson.dumps({"round_index": 1, "message": f"<b>message</b> number {i}"})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1234),
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", tokens[i % len(tokens)]),
            ],
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        await app(scope, receive, send)
        return status

    return post


async def _measure(post: Post, count: int, start: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(start, start + count):
        status = await post(i)
        if status != 201:
            raise SystemExit(f"POST {i} answered {status}")
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


@contextlib.asynccontextmanager
async def _database(folder: str, postgres: str | None) -> AsyncIterator[str]:
    """A fresh migrated database: an SQLite file in `folder`, or one on `postgres`'s server."""
    if postgres is None:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        yield url
        return
    name = f"bench_chat_cpu_{os.getpid()}"
    admin = create_async_engine(postgres, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(url)
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


async def run(
    posts: int, rounds: int, members: int, raw: bool, profile: bool, postgres: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with _database(folder, postgres) as url:
            service: Service = build(
                Settings(database_url=url, jwt_secret=SECRET, data_dir=Path(folder))
            )
            # The benchmark posts faster than one person may: lift the limit, keep the check.
            service.api.state.api.write_limiter = RateLimiter(Limit(rate=1e9, burst=1e9))
            transport = httpx.ASGITransport(app=service.asgi)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                    users = [f"user{n}" for n in range(members)]
                    group_id, session_id = await _setup(http, users)
                    path = f"/groups/{group_id}/sessions/{session_id}/chat"
                    post = (
                        _raw_poster(service.asgi, path, users)
                        if raw
                        else _httpx_poster(http, path, users)
                    )
                    await _measure(post, 200, 0)  # warm up caches, the pool and the JIT-less paths
                    if profile:
                        await _profile(post, posts)
                        return
                    cpus: list[float] = []
                    walls: list[float] = []
                    for n in range(rounds):
                        cpu, wall = await _measure(post, posts, 1000 + n * posts)
                        cpus.append(cpu)
                        walls.append(wall)
                        print(f"round {n + 1}: {cpu:7.0f} µs CPU/POST  {wall:7.0f} µs wall/POST")
                    print(
                        f"median of {rounds} x {posts} POSTs ({'raw ASGI' if raw else 'httpx'}): "
                        f"{statistics.median(cpus):.0f} µs CPU, "
                        f"{statistics.median(walls):.0f} µs wall per POST"
                    )
            finally:
                await service.database.dispose()


async def _profile(post: Post, posts: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is not installed") from None
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    profiler.start()
    await _measure(post, posts, 1000)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000, help="POSTs per round (2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is shown (3)")
    parser.add_argument("--members", type=int, default=5, help="people in the session (5)")
    parser.add_argument("--raw", action="store_true", help="call the ASGI app without httpx")
    parser.add_argument("--profile", action="store_true", help="one round under pyinstrument")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server to make a scratch database on, e.g. "
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test (default: SQLite)",
    )
    options = parser.parse_args()
    asyncio.run(
        run(
            options.posts,
            options.rounds,
            options.members,
            options.raw,
            options.profile,
            options.postgres,
        )
    )


if __name__ == "__main__":
    main()
