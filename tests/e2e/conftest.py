"""End-to-end fixtures: a live server on SQLite (`server`) or on both databases (`live`), REST
clients speaking to it over TCP, and Socket.IO peers that are all disconnected at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve
from tests.e2e.clients import Peers


@pytest.fixture
async def server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A live server on an SQLite copy (most realtime behaviour does not depend on the DB)."""
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with serve(service) as live_server:
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
