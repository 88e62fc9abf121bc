"""Phase clock under load: `bench/run timers [--sessions N] [--postgres URL] [--lead S]`.

Seeds N RUNNING sessions (default 1,000) straight into a fresh database, each with one round
in VOTING whose deadline falls in the same second (spread over its milliseconds), starts one
`studygroups serve` process (pinned to core 1 when taskset exists), and joins every session
from 100 Socket.IO clients. Then it measures:

- idle CPU of the server over `--idle` seconds with the N timers armed,
- every `round.timeUp` delivered to the clients, and the firing lag per deadline
  (arrival at the client minus `endsAt`): p50, p99, max,
- idle CPU over the same span once every timer has fired (no timer armed): the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import socketio
from sqlalchemy import insert, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from studygroups.identity import mint_token
from studygroups.storage.migrate import upgrade
from studygroups.storage.tables import (
    Group,
    GroupMember,
    GroupSession,
    Round,
    SessionMember,
    User,
)

SECRET = "bench-secret-that-is-long-enough-for-hs256"
WATCHERS = 100  # 10 sessions each: joins stay within one socket's join burst
ROOT = Path(__file__).resolve().parent.parent


def _token(user: str) -> str:
    return mint_token(SECRET, user, user.capitalize(), f"{user}@example.org", None)


async def _seed(url: str, sessions: int, deadline: datetime) -> list[tuple[str, str]]:
    """N sessions of `ana` (facilitator) and one watcher each; (session id, watcher)."""
    now = datetime.now(UTC)
    users = ["ana", *(f"w{n}" for n in range(WATCHERS))]
    rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (Group, GroupMember, GroupSession)}
    rows.update({SessionMember: [], Round: []})
    made: list[tuple[str, str]] = []
    for n in range(sessions):
        group_id, session_id, watcher = str(uuid.uuid4()), str(uuid.uuid4()), f"w{n % WATCHERS}"
        rows[Group].append(
            {"id": group_id, "name": f"g{n}", "created_by": "ana", "created_at": now}
        )
        for user, role in (("ana", "OWNER"), (watcher, "MEMBER")):
            rows[GroupMember].append(
                {
                    "group_id": group_id,
                    "user_id": user,
                    "role": role,
                    "status": "ACTIVE",
                    "invited_by": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows[SessionMember].append(
                {
                    "session_id": session_id,
                    "user_id": user,
                    "role": "FACILITATOR" if user == "ana" else "SCRIBE",
                    "attendance_status": "PRESENT",
                    "created_at": now,
                }
            )
        rows[GroupSession].append(
            {
                "id": session_id,
                "group_id": group_id,
                "status": "RUNNING",
                "mode": "PI",
                "layer": "L1",
                "rounds_count": 1,
                "created_by": "ana",
                "last_seq": 0,
                "created_at": now,
                "started_at": now,
                "auto_advance": False,
            }
        )
        rows[Round].append(
            {
                "id": str(uuid.uuid4()),
                "session_id": session_id,
                "round_index": 1,
                "status": "VOTING",
                "vote_sec": 60,
                "discuss_sec": 180,
                "revote_sec": 60,
                "explain_sec": 180,
                "status_changed_at": now,
                "created_at": now,
                "timer_state": "RUNNING",
                "ends_at": deadline + timedelta(milliseconds=n % 1000),
            }
        )
        made.append((session_id, watcher))
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(User),
                [{"id": u, "name": u, "created_at": now, "updated_at": now} for u in users],
            )
            for table in (Group, GroupMember, GroupSession, SessionMember, Round):
                await connection.execute(insert(table), rows[table])
    finally:
        await engine.dispose()
    return made


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _idle_cpu(pid: int, seconds: float) -> float:
    """The server's CPU use over `seconds` of wall time, in percent of one core."""
    start_cpu, start = _cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (_cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def _start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv/bin/studygroups"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-migrate",
    ]
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        command = ["taskset", "-c", "1", *command]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "SOCKET_EVENTS_PER_SECOND": "1000",
        "SOCKET_EVENT_BURST": "2000",
        "SOCKET_EVENT_FLOOD_LIMIT": "5000",
    }
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


async def _connect(port: int, user: str, arrivals: list[tuple[float, str]]) -> Any:
    client = socketio.AsyncClient(reconnection=False)

    @client.on("round.timeUp", namespace="/study-groups")  # type: ignore[untyped-decorator]
    def time_up(data: dict[str, Any]) -> None:
        arrivals.append((time.time(), str(data["endsAt"])))

    for _ in range(200):
        try:
            await client.connect(
                f"http://127.0.0.1:{port}",
                namespaces=["/study-groups"],
                transports=["websocket"],
                auth={"token": _token(user)},
            )
            return client
        except socketio.exceptions.ConnectionError:
            await asyncio.sleep(0.1)
    raise SystemExit(f"could not connect as {user}")


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-timers-"))
    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    if args.postgres:  # a database of this run's own on that server, dropped at the end
        url = await _create_database(args.postgres, f"bench_timers_{os.getpid()}")
    try:
        await _measure(args, url, workdir)
    finally:
        if args.postgres:
            await _drop_database(args.postgres, url.rsplit("/", 1)[1])


async def _create_database(server: str, name: str) -> str:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return f"{server.rsplit('/', 1)[0]}/{name}"


async def _drop_database(server: str, name: str) -> None:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    await admin.dispose()


async def _measure(args: argparse.Namespace, url: str, workdir: Path) -> None:
    await upgrade(url)
    deadline = (datetime.now(UTC) + timedelta(seconds=args.lead)).replace(microsecond=0)
    made = await _seed(url, args.sessions, deadline)
    port = 18000 + os.getpid() % 1000
    server = _start_server(url, port, workdir / "server.log")
    try:
        arrivals: list[tuple[float, str]] = []
        clients = {f"w{n}": await _connect(port, f"w{n}", arrivals) for n in range(WATCHERS)}
        for session_id, watcher in made:
            ack = await clients[watcher].call(
                "joinSession", {"sessionId": session_id}, namespace="/study-groups", timeout=30
            )
            assert ack.get("success"), ack
        before = (deadline - datetime.now(UTC)).total_seconds()
        if before < args.idle + 1:
            raise SystemExit(f"only {before:.1f} s left before the deadlines: raise --lead")
        armed_cpu = await _idle_cpu(server.pid, args.idle)
        wait_until = time.monotonic() + (deadline - datetime.now(UTC)).total_seconds() + 30
        while len(arrivals) < args.sessions and time.monotonic() < wait_until:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)  # anything late or twice would show up here
        idle_cpu = await _idle_cpu(server.pid, args.idle)
        for client in clients.values():
            await client.disconnect()
    finally:
        server.terminate()
        server.wait(timeout=10)
    lags = sorted(
        (at - datetime.fromisoformat(ends.replace("Z", "+00:00")).timestamp()) * 1000
        for at, ends in arrivals
    )

    def pct(p: float) -> float:
        return lags[min(len(lags) - 1, int(p * len(lags)))] if lags else float("nan")

    distinct = len({ends for _, ends in arrivals})
    worst = lags[-1] if lags else float("nan")
    mean = statistics.fmean(lags) if lags else float("nan")
    print(f"database              {url.split(':')[0]}")
    print(f"sessions              {args.sessions} (deadlines within one second)")
    print(f"round.timeUp          {len(arrivals)} delivered, {distinct} distinct endsAt")
    print(f"firing lag (ms)       p50 {pct(0.5):.0f}  p99 {pct(0.99):.0f}  max {worst:.0f}")
    print(f"                      mean {mean:.0f}")
    print(f"idle CPU, armed       {armed_cpu:.2f} % of a core over {args.idle:.0f} s")
    print(f"idle CPU, none armed  {idle_cpu:.2f} % of a core over {args.idle:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help="armed deadlines (1000)")
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL URL to create (and drop) a database of the run's own on; "
        "default: a fresh SQLite file",
    )
    parser.add_argument("--lead", type=float, default=60.0, help="seconds to the deadlines (60)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU (10)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
