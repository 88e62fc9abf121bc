"""End-to-end fixtures: a live server on SQLite (`server`) or on both databases (`live`), REST
clients speaking to it over TCP, and Socket.IO peers that are all disconnected at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from studygroups.app import Service, build
from tests.conftest import LiveServer, make_settings
from tests.e2e.clients import Peers

# python-engineio keeps a long-polling GET open after its client closed the connection, until
# the ping timeout (25 s + 20 s); uvicorn's graceful shutdown would wait for it. Tests whose
# clients poll (the node interop tests) shut the server down after this grace instead.
SHUTDOWN_GRACE_SECONDS = 1


@asynccontextmanager
async def serve_briefly(service: Service) -> AsyncIterator[LiveServer]:
    """Like tests.conftest.serve, with a bounded graceful shutdown."""
    config = uvicorn.Config(
        service.asgi,
        host="127.0.0.1",
        port=0,
        log_level="critical",
        lifespan="on",
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(service, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A live server on an SQLite copy (most realtime behaviour does not depend on the DB)."""
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with serve_briefly(service) as live_server:
            yield live_server
    finally:
        await service.database.dispose()


@pytest.fixture
async def rest(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
async def peers(server: LiveServer) -> AsyncIterator[Peers]:
    group = Peers(server)
    try:
        yield group
    finally:
        await group.close()


@pytest.fixture
async def live_rest(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
async def live_peers(live: LiveServer) -> AsyncIterator[Peers]:
    group = Peers(live)
    try:
        yield group
    finally:
        await group.close()
