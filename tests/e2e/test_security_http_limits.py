"""What an HTTP client may hold (api/connections.py, api/middleware.py, docs/security.md): slow
request heads and bodies are timed out, silent connections cannot crowd out a health check,
and one user's reads are rate-limited without slowing anyone else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from studygroups.app import build
from tests.conftest import LiveServer, auth, make_settings, serve
from tests.support import make_session


@asynccontextmanager
async def bounded_server(
    sqlite_url: str, tmp_path: Path, **settings: Any
) -> AsyncIterator[LiveServer]:
    service = build(make_settings(sqlite_url, tmp_path, **settings))
    try:
        async with serve(service) as live:
            yield live
    finally:
        await service.database.dispose()


async def everything_until_closed(reader: asyncio.StreamReader) -> bytes:
    """What the server sends until it closes the connection (a test failure if it never does)."""
    return await asyncio.wait_for(reader.read(), 10)


def metric(server: LiveServer, name: str, *labels: str) -> float:
    counter = getattr(server.service.api.state.metrics, name)
    return float((counter.labels(*labels) if labels else counter)._value.get())


# -- slow heads and bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        (b"", b""),  # a silent connection is closed without a word
        (b"GET /healthz HTTP/1.1\r\nHost: studygroups\r\nX-Slow:", b"HTTP/1.1 408 "),
    ],
    ids=["silent", "half-a-head"],
)
async def test_a_connection_that_does_not_finish_its_request_head_is_closed_after_the_timeout(
    sqlite_url: str, tmp_path: Path, sent: bytes, answer: bytes
) -> None:
    async with bounded_server(sqlite_url, tmp_path, http_header_timeout_seconds=0.3) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(sent)

        received = await everything_until_closed(reader)

        assert received.startswith(answer)
        assert (answer == b"") == (received == b"")
        assert metric(server, "http_timeouts", "headers") == 1
        writer.close()


async def test_a_request_whose_body_trickles_in_too_slowly_gets_408_and_is_closed(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with bounded_server(sqlite_url, tmp_path, http_body_timeout_seconds=0.3) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        token = auth("ana")["Authorization"]
        writer.write(
            b"POST /groups HTTP/1.1\r\nHost: studygroups\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\nAuthorization: " + token.encode() + b'\r\n\r\n{"name": '
        )

        received = await everything_until_closed(reader)

        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert b"connection: close" in head.lower()
        assert json.loads(body)["statusCode"] == 408
        assert metric(server, "http_timeouts", "body") == 1
        writer.close()


# -- a cap on connections that keeps room for a health check -----------------------------------


async def test_silent_connections_over_the_cap_make_room_for_a_health_check_oldest_first(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with bounded_server(
        sqlite_url, tmp_path, max_connections=50, http_header_timeout_seconds=600
    ) as server:
        silent = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(300)]
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                health = await http.get("/healthz")

            assert health.status_code == 200
            for reader, _ in silent[:250]:  # the oldest were closed to keep 50
                assert await everything_until_closed(reader) == b""
            assert metric(server, "connections_shed", "evicted") >= 251
        finally:
            for _, writer in silent:
                writer.close()


# -- REST reads per user ----------------------------------------------------------------------


async def test_a_user_flooding_reads_gets_429_with_retry_after_and_another_user_does_not(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with (
        bounded_server(sqlite_url, tmp_path, rest_reads_per_second=0.01, rest_read_burst=5) as s,
        httpx.AsyncClient(base_url=s.url, timeout=10) as http,
    ):
        answers = [(await http.get("/groups", headers=auth("ana"))).status_code for _ in range(6)]
        refused = await http.get("/groups", headers=auth("ana"))
        other = await http.get("/groups", headers=auth("bo"))

        assert answers == [200] * 5 + [429]
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["statusCode"] == 429
        assert other.status_code == 200
        assert metric(s, "reads_limited") == 2


async def test_a_feed_read_is_charged_for_the_events_it_returns_not_the_limit_it_asks_for(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with (
        bounded_server(sqlite_url, tmp_path, rest_reads_per_second=0.01, rest_read_burst=12) as s,
        httpx.AsyncClient(base_url=s.url, timeout=10) as http,
    ):
        scenario = await make_session(http, ["ana", "bo"])
        feed = f"/group-sessions/{scenario.session_id}/feed"

        big = await http.get(f"{feed}?limit=1000", headers=auth("ana"))
        small = [(await http.get(feed, headers=auth("ana"))).status_code for _ in range(12)]

        # the big read held 11 tokens of 12 while it ran, and got 10 back: one event came
        assert big.status_code == 200
        assert small == [200] * 11 + [429]
