"""How long `studygroups serve` takes to exit on SIGTERM with N connected WebSockets:
`python bench/exit_time.py [--sockets N] [--postgres] [--redis]`.

While a restarting process exits its port is closed and every client that knocks is refused
and backs off, so this time is part of a reconnect storm's recovery (`bench/run storm`).
Starts the server (SQLite in a temporary directory, or the `test` database on 127.0.0.1:5432,
optionally with Redis on 127.0.0.1:6379), connects N Socket.IO clients over raw WebSockets,
sends SIGTERM and prints the time until the process has exited, and when the last socket was
closed (each client's reconnection delay starts at its close: what the process does after it
delays every client that reconnects early).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from studygroups.identity import mint_token

SECRET = "bench-secret-that-is-long-enough-for-hs256"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _closed(ws: aiohttp.ClientWebSocketResponse) -> float:
    """When the server closed this socket (its client's reconnection delay starts then)."""
    while not ws.closed:
        message = await ws.receive()
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    return time.monotonic()


async def measure(
    sockets: int, postgres: bool, redis: bool, folder: str
) -> tuple[float, tuple[float, float]]:
    port = _free_port()
    env = {**os.environ, "JWT_SECRET": SECRET, "LOG_LEVEL": "WARNING", "DATA_DIR": folder}
    env["DATABASE_URL"] = (
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        if postgres
        else f"sqlite+aiosqlite:///{folder}/exit.db"
    )
    if redis:
        env |= {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_PREFIX": f"exit{os.getpid()}"}
    command = [str(Path(".venv/bin/studygroups").absolute()), "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        open_sockets = []
        for i in range(sockets):
            ws = await http.ws_connect(url)
            await ws.receive_str()
            token = mint_token(SECRET, f"u{i}", f"User {i}", f"u{i}@example.org", None)
            await ws.send_str("40/study-groups," + json.dumps({"token": token}))
            await ws.receive_str()
            open_sockets.append(ws)
        started = time.monotonic()
        closing = [asyncio.ensure_future(_closed(ws)) for ws in open_sockets]
        server.send_signal(signal.SIGTERM)
        while server.poll() is None:
            await asyncio.sleep(0.005)
        took = time.monotonic() - started
        times = sorted(await asyncio.gather(*closing))
        closed = (times[0] - started, times[-1] - started)
        for ws in open_sockets:
            await ws.close()
    return took, closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2500, help="connected sockets (2500)")
    parser.add_argument("--postgres", action="store_true", help="the `test` database")
    parser.add_argument("--redis", action="store_true", help="with REDIS_URL (a cluster member)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        took, closed = asyncio.run(measure(args.sockets, args.postgres, args.redis, folder))
    print(
        f"exit with {args.sockets} sockets: {took * 1000:.0f} ms"
        f" (its sockets closed from {closed[0] * 1000:.0f} to {closed[1] * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
