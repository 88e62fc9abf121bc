"""`studygroups serve` takes its port before it loads the app: a client that connects while the
process starts (a restart) waits and is served, instead of being refused and backing off."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.e2e.cluster import free_port, spawn_serve

STARTED = b"Application startup complete"


def _connect_as_soon_as_possible(port: int, timeout: float = 20.0) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def test_a_request_sent_while_the_server_starts_waits_and_is_answered(tmp_path: Path) -> None:
    port = free_port()
    process, log = spawn_serve(tmp_path, port)
    try:
        early = _connect_as_soon_as_possible(port)
        started_when_connected = STARTED in log.read_bytes()
        early.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := early.recv(4096):
            answer += chunk
        early.close()
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert not started_when_connected  # connected before the app was up …
    assert answer.startswith(b"HTTP/1.1 200")  # … and answered once it was
    assert STARTED in log.read_bytes()
    assert f"Listening on http://127.0.0.1:{port}".encode() in log.read_bytes()
