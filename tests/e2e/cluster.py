"""Helpers for multi-process tests: real `studygroups serve` processes sharing PostgreSQL and
Redis, a private Redis server that a test may stop, and Socket.IO clients that record events."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis

from tests.conftest import SECRET, token
from tests.e2e.clients import Peer

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def spawn_serve(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """`studygroups serve` on a fresh SQLite file in `tmp_path`, logging at INFO into
    `tmp_path/serve.log`: (the process, its log)."""
    log = tmp_path / "serve.log"
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "JWT_SECRET": SECRET,
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "studygroups.cli", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
    return process, log


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {timeout} s")


def wait_healthy(port: int, timeout: float = 30.0) -> None:
    """`serve` listens before its app is up (cli.py): wait for /healthz, not for the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no healthy server on {port} after {timeout} s")


@dataclass
class ServerProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """kill -9: no goodbye to Redis, no cleanup."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


# This run's keys and channel in a Redis other runs may share (they may overlap, as may a bench):
# each test clears only these, never the whole database.
REDIS_PREFIX = f"sgtest{os.getpid()}"


def clear_redis(url: str) -> None:
    """Remove this run's keys (REDIS_PREFIX) from the Redis at `url`."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{REDIS_PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def start_server(database_url: str, redis_url: str, log_dir: Path, **env: str) -> ServerProcess:
    port = free_port()
    log = log_dir / f"server-{port}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": REDIS_PREFIX,
        "JWT_SECRET": SECRET,
        "PRESENCE_TTL_SECONDS": "3",
        "LOG_LEVEL": "INFO",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "studygroups.cli", "serve", "--port", str(port), "--no-migrate"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(port, process, log)
    try:
        wait_healthy(port)
    except TimeoutError:
        server.stop()
        raise AssertionError(f"server did not start:\n{log.read_text()}") from None
    return server


@contextmanager
def private_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis server of this test's own, which the test may stop and start."""
    process = start_redis(port)
    try:
        yield process
    finally:
        stop_redis(process)


def start_redis(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def connect(url: str, user: str) -> Peer:
    """A recording Socket.IO client of `user`, connected to the server at `url`."""
    peer = Peer(user)
    await peer.connect(url, auth={"token": token(user)})
    return peer


async def eventually(
    predicate: Any, timeout: float = 10.0, interval: float = 0.05, describe: Any = None
) -> None:
    """Wait until predicate() is true; fail with the timeout otherwise (bounded, not timed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(interval)
    seen = f": {describe()}" if describe is not None else ""
    assert predicate(), f"condition still false after {timeout} s{seen}"


async def eventually_equals(
    probe: Callable[[], Awaitable[T]], expected: T, timeout: float = 10.0, interval: float = 0.05
) -> None:
    """Wait until `await probe()` answers `expected`; fail with its last answer otherwise."""
    deadline = time.monotonic() + timeout
    answer = await probe()
    while answer != expected and time.monotonic() < deadline:
        await asyncio.sleep(interval)
        answer = await probe()
    assert answer == expected, f"still {answer!r} after {timeout} s, not {expected!r}"


async def ready(client: httpx.AsyncClient) -> int:
    try:
        return (await client.get("/readyz", timeout=5)).status_code
    except httpx.HTTPError:
        return 0


async def wait_ready(client: httpx.AsyncClient, status: int, timeout: float = 15.0) -> None:
    """Wait until /readyz answers `status` (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await ready(client) == status:
            return
        await asyncio.sleep(0.05)
    assert await ready(client) == status, f"/readyz did not become {status} in {timeout} s"
