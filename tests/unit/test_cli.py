"""How `studygroups serve` configures uvicorn's HTTP and WebSockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from studygroups.api.connections import GuardedHttpProtocol
from studygroups.app import build
from studygroups.cli import server_options
from studygroups.realtime.protocol import UpgradeProtocol
from tests.conftest import make_settings


async def test_serve_uses_the_native_websocket_protocol_unless_uvicorn_ws_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = build(make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path))
    try:
        monkeypatch.delenv("UVICORN_WS", raising=False)
        native = server_options(service)["ws"]
        assert isinstance(native, type)
        assert issubclass(native, UpgradeProtocol)
        assert native.engine.eio is service.sio.eio

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
        http = server_options(service)["http"]
        assert issubclass(http, GuardedHttpProtocol)
        assert (http.guard.max_connections, http.guard.header_timeout) == (77, 3.5)
    finally:
        await service.database.dispose()
