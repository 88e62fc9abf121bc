"""The app served by the plain `uvicorn` command line (studygroups/asgi.py), not by
`studygroups serve`: with the documented flags Socket.IO WebSockets take the native path;
without them they still work, on python-engineio's path, and the server says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import SECRET, token
from tests.e2e.clients import Peer
from tests.e2e.cluster import ServerProcess, free_port, wait_for_port

NATIVE_FLAGS = ("--ws", "studygroups.asgi:WebSocket", "--http", "studygroups.asgi:Http")


@contextmanager
def uvicorn_cli(database_url: str, log_dir: Path, *flags: str) -> Iterator[ServerProcess]:
    """`python -m uvicorn studygroups.asgi:app --factory …` in a process of its own."""
    port = free_port()
    log = log_dir / f"uvicorn-{port}.log"
    environment = {
        **{k: v for k, v in os.environ.items() if k != "UVICORN_WS"},  # uvicorn reads UVICORN_*
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "DATA_DIR": str(log_dir),
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "uvicorn", "studygroups.asgi:app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), *flags]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
    server = ServerProcess(port, process, log)
    try:
        for _ in range(60):  # a minute at most, and no longer than the process lives
            if process.poll() is not None:
                break
            try:
                wait_for_port(port, timeout=1)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError(f"uvicorn did not listen:\n{log.read_text()}")
        if process.poll() is not None:
            raise AssertionError(f"uvicorn did not start:\n{log.read_text()}")
        yield server
    finally:
        server.stop()


def websockets_by_path(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    found = re.findall(r'^studygroups_websockets_total\{path="(\w+)"\} (\S+)$', text, re.M)
    return {path: float(value) for path, value in found}


async def connected_peer(url: str, user: str, transports: tuple[str, ...]) -> Peer:
    peer = Peer(user)
    await peer.connect(url, auth={"token": token(user)}, transports=transports)
    assert peer.connected, f"{user} did not connect"
    return peer


async def test_uvicorn_with_the_documented_flags_serves_socketio_websockets_natively(
    sqlite_url: str, tmp_path: Path
) -> None:
    with uvicorn_cli(sqlite_url, tmp_path, *NATIVE_FLAGS) as server:
        straight = await connected_peer(server.url, "ada", ("websocket",))
        upgraded = await connected_peer(server.url, "bob", ("polling", "websocket"))
        try:
            await upgraded.wait_until(
                lambda: upgraded.sio.transport() == "websocket" or None, "the upgrade"
            )
            # counted when the WebSocket opened, before the client switched to it
            assert websockets_by_path(server.url) == {"native": 1, "upgrade": 1, "engineio": 0}
            assert "served by python-engineio" not in server.log.read_text()
        finally:
            await straight.disconnect()
            await upgraded.disconnect()


async def test_uvicorn_without_the_flags_still_serves_websockets_and_warns_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    with uvicorn_cli(sqlite_url, tmp_path) as server:
        peers = [await connected_peer(server.url, user, ("websocket",)) for user in ("ada", "bob")]
        try:
            assert websockets_by_path(server.url) == {"native": 0, "upgrade": 0, "engineio": 2}
            log = server.log.read_text()
            assert log.count("WebSockets are served by python-engineio, not the native path") == 1
        finally:
            for peer in peers:
                await peer.disconnect()
