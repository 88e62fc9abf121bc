"""A live server reached along one of the paths a Socket.IO frame can take — the native
WebSocket (realtime/engine.py), python-engineio's WebSocket (UVICORN_WS=websockets-sansio) and
long-polling — with a REST client, python-socketio peers and bare clients of the test's kind
(JSON in raw.py, msgpack in test_msgpack_raw.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, Protocol, TypeVar

import httpx
import pytest

from studygroups.app import build
from studygroups.config import Settings
from tests.conftest import LiveServer, serve
from tests.e2e.clients import Peers
from tests.e2e.test_metrics import sample

PATHS = ("native-websocket", "engineio-websocket", "polling")


class Bare(Protocol):
    """What a harness needs of a bare client."""

    async def login(self, user: str) -> None: ...

    async def close(self) -> None: ...


C = TypeVar("C", bound=Bare)
Opener = Callable[[LiveServer, str], Awaitable[C]]  # (live server, "websocket" | "polling")


class LiveHarness(Generic[C]):
    def __init__(
        self, live: LiveServer, rest: httpx.AsyncClient, path: str, opener: Opener[C]
    ) -> None:
        self.live, self.rest, self.path = live, rest, path
        self.peers = Peers(live)
        self.raws: list[C] = []
        self._opener = opener

    async def raw(self, user: str | None = None) -> C:
        """A bare client on this harness's path, logged in to the namespace as `user`."""
        client = await self._opener(self.live, "polling" if self.path == "polling" else "websocket")
        self.raws.append(client)
        if user is not None:
            await client.login(user)
        return client

    async def metric(self, name: str) -> float:
        return sample((await self.rest.get("/metrics")).text, name)


@asynccontextmanager
async def harness_on(
    path: str, settings: Settings, opener: Opener[C], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LiveHarness[C]]:
    """A server built from `settings`, served for WebSockets along `path` (one of PATHS)."""
    if path == "engineio-websocket":
        monkeypatch.setenv("UVICORN_WS", "websockets-sansio")
    else:
        monkeypatch.delenv("UVICORN_WS", raising=False)
    service = build(settings)
    try:
        async with (
            serve(service) as live,
            httpx.AsyncClient(base_url=live.url, timeout=30) as rest,
        ):
            harness = LiveHarness(live, rest, path, opener)
            try:
                yield harness
            finally:
                for client in harness.raws:
                    await client.close()
                await harness.peers.close()
    finally:
        await service.database.dispose()
