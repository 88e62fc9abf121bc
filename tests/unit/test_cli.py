"""How `studygroups serve` configures uvicorn's HTTP and WebSockets."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from studygroups.api.connections import GUARD_KEY, GuardedHttpProtocol
from studygroups.app import build
from studygroups.cli import server_options
from studygroups.realtime.protocol import TRANSPORT_KEY, UpgradeProtocol
from tests.conftest import make_settings


async def lifespan_state(app: Any) -> dict[str, Any]:
    """The lifespan state the app fills at startup, which uvicorn hands its protocols."""
    state: dict[str, Any] = {}
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(events)  # start, then shut down at once

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"], sent
    return state


async def test_serve_uses_the_native_websocket_protocol_unless_uvicorn_ws_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = build(make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path))
    try:
        monkeypatch.delenv("UVICORN_WS", raising=False)
        assert server_options(service)["ws"] is UpgradeProtocol
        state = await lifespan_state(service.asgi)
        assert state[TRANSPORT_KEY].engine.eio is service.sio.eio

        monkeypatch.setenv("UVICORN_WS", "websockets-sansio")
        assert server_options(service)["ws"] == "websockets-sansio"
        assert server_options(service)["ws_per_message_deflate"] is False
    finally:
        await service.database.dispose()


async def test_serve_uses_the_http_protocol_that_times_out_heads_and_caps_connections(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/unused.db",
        tmp_path,
        max_connections=77,
        http_header_timeout_seconds=3.5,
    )
    service = build(settings)
    try:
        assert server_options(service)["http"] is GuardedHttpProtocol
        guard = (await lifespan_state(service.asgi))[GUARD_KEY]
        assert (guard.max_connections, guard.header_timeout) == (77, 3.5)
    finally:
        await service.database.dispose()
