"""Server CPU of one reconnect: `python bench/reconnect_cpu.py [--missed N] [--postgres URL]`.

Starts `studygroups serve` (LOG_LEVEL=warning, as bench/run does) on a fresh SQLite file, or
with `--postgres URL` on a fresh database made on that server and dropped afterwards, and with
`--redis URL` on a Redis for presence and fan-out as in the cluster; pins it to `--core`. Sets up
`--sessions` started sessions of `--members` members each and `--missed` chat messages in
every session through REST. Then, per round, every member's socket reconnects as a
socket.io-client does after a restart, `--concurrency` at a time: a WebSocket straight to
Engine.IO, the Socket.IO CONNECT with a token the server has not seen yet (after a restart no
token is in its cache), `joinSession {sessionId, lastSeq: head - missed}`, the ack checked to
hold the `missed` events. The sockets stay open until the round ends (as in a storm, nobody
leaves meanwhile), then close and the server settles. Prints the server's CPU (utime + stime
from /proc, all threads) per reconnect, median of the rounds. `--py-spy FILE` records the
server with py-spy (raw format) during the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import websockets

from chat_cpu import SECRET, _auth, _database

NAMESPACE = "/study-groups"
ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _fresh_token(user: str) -> str:
    """A token for `user` the server has never seen (a nonce claim), as after a restart."""
    claims = {
        "sub": user,
        "name": user.capitalize(),
        "email": f"{user}@example.org",
        "iat": int(time.time()) - 5,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _server(url: str, redis: str | None, core: int | None) -> AsyncIterator[tuple[int, int]]:
    """`studygroups serve` on a free port: (pid, port), killed at the end."""
    port = _free_port()
    env = {**os.environ, "JWT_SECRET": SECRET, "DATABASE_URL": url, "LOG_LEVEL": "warning"}
    env.pop("REDIS_URL", None)
    if redis is not None:
        env["REDIS_URL"] = redis
    command = [str(ROOT / ".venv/bin/studygroups"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("the server did not answer /healthz in 30 s")
        yield process.pid, port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


async def _setup(
    http: httpx.AsyncClient, sessions: int, members: int, missed: int
) -> list[tuple[str, int, list[str]]]:
    """Started sessions with their members and `missed` chat messages: (session, head, users)."""
    from chat_cpu import _setup as setup_session

    made = []
    for s in range(sessions):
        users = [f"s{s}u{m}" for m in range(members)]
        group_id, session_id = await setup_session(http, users)
        for i in range(missed):
            posted = await http.post(
                f"/groups/{group_id}/sessions/{session_id}/chat",
                json={"round_index": 1, "message": f"message {i} of the storm"},
                headers=_auth(users[1 + i % (members - 1)]),
            )
            assert posted.status_code == 201, posted.text
        feed = await http.get(f"/group-sessions/{session_id}/feed", headers=_auth(users[0]))
        assert feed.status_code == 200, feed.text
        head = int(feed.json()["seq"])
        made.append((session_id, head, users))
    return made


async def _reconnect(port: int, user: str, session_id: str, last_seq: int, missed: int) -> Any:
    """One client's reconnect and rejoin; the open WebSocket, kept until the round ends."""
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
        compression=None,
        max_size=None,
    )
    opened = await ws.recv()
    assert isinstance(opened, str) and opened.startswith("0{"), opened
    token = orjson.dumps({"token": _fresh_token(user)}).decode()
    await ws.send(f"40{NAMESPACE},{token}")
    while True:
        answer = await ws.recv()
        if isinstance(answer, str) and answer.startswith(f"40{NAMESPACE},"):
            break
        assert not (isinstance(answer, str) and answer.startswith(f"44{NAMESPACE},")), answer
    join = {"sessionId": session_id, "lastSeq": last_seq}
    await ws.send(f"42{NAMESPACE},1" + orjson.dumps(["joinSession", join]).decode())
    prefix = f"43{NAMESPACE},1"
    while True:
        message = await ws.recv()
        if isinstance(message, str) and message == "2":
            await ws.send("3")
        elif isinstance(message, str) and message.startswith(prefix):
            ack = orjson.loads(message[len(prefix) :])[0]
            assert ack.get("success"), ack
            assert len(ack["missed"]) == missed, (len(ack["missed"]), missed)
            return ws


async def _round(
    port: int, made: list[tuple[str, int, list[str]]], missed: int, concurrency: int
) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(user: str, session_id: str, head: int) -> Any:
        async with gate:
            return await _reconnect(port, user, session_id, head - missed, missed)

    return await asyncio.gather(
        *(one(user, session_id, head) for session_id, head, users in made for user in users)
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with (
            _database(folder, args.postgres) as url,
            _server(url, args.redis, args.core) as (pid, port),
        ):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                made = await _setup(http, args.sessions, args.members, args.missed)
            for socket_ in await _round(port, made, args.missed, args.concurrency):  # warm-up
                await socket_.close()
            await asyncio.sleep(1)
            spy = None
            if args.py_spy:
                py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
                record = ["record", "-p", str(pid), "-r", "200", "--format", "raw"]
                spy = subprocess.Popen(
                    [py_spy, *record, "-o", args.py_spy],
                    stdout=subprocess.DEVNULL,
                )
                await asyncio.sleep(1)
            per: list[float] = []
            count = sum(len(users) for _, _, users in made)
            for n in range(args.rounds):
                before, wall = _cpu_seconds(pid), time.perf_counter()
                sockets = await _round(port, made, args.missed, args.concurrency)
                cpu, wall = _cpu_seconds(pid) - before, time.perf_counter() - wall
                per.append(cpu / count * 1e6)
                print(
                    f"round {n + 1}: {count} reconnects, {per[-1]:6.0f} µs server CPU each, "
                    f"{wall / count * 1e6:6.0f} µs wall each"
                )
                await asyncio.gather(*(s.close() for s in sockets))
                await asyncio.sleep(args.settle)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            where = "PostgreSQL" if args.postgres else "SQLite"
            where += " + Redis" if args.redis else ""
            print(
                f"median of {args.rounds} rounds ({where}, {args.missed} missed, "
                f"{args.concurrency} at a time): {statistics.median(per):.0f} µs server CPU "
                f"per reconnect, least {min(per):.0f} ({[round(p) for p in per]})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4, help="sessions (4)")
    parser.add_argument("--members", type=int, default=50, help="members per session (50)")
    parser.add_argument("--missed", type=int, default=50, help="events each rejoin misses (50)")
    parser.add_argument("--concurrency", type=int, default=50, help="reconnects at once (50)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (5)")
    parser.add_argument("--settle", type=float, default=1.0, help="s between rounds (1)")
    parser.add_argument("--core", type=int, default=1, help="the server's core (1; -1: any)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (scratch database)")
    parser.add_argument("--redis", default=None, help="a Redis URL (presence and fan-out)")
    parser.add_argument("--py-spy", default=None, help="record the server into this raw file")
    args = parser.parse_args()
    if args.core < 0:
        args.core = None
    if args.members < 2:
        parser.error("--members must be at least 2")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
