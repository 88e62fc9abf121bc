"""How `studygroups serve` configures uvicorn's HTTP and WebSockets, and `studygroups token`
refusing to sign with a secret no server knows."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jwt
import pytest

from studygroups.api.connections import GUARD_KEY, GuardedHttpProtocol
from studygroups.app import build
from studygroups.cli import main, server_options
from studygroups.config import SECRET_FILE, Settings
from studygroups.realtime.protocol import TRANSPORT_KEY, UpgradeProtocol
from tests.conftest import make_settings

TOKEN_ARGS = ["token", "--sub", "ana", "--name", "Ana", "--email", "ana@example.org"]


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


def test_token_refuses_to_invent_a_secret_and_says_where_it_looked_and_how_to_point_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # not where any server runs

    with pytest.raises(SystemExit) as exited:
        main(TOKEN_ARGS)

    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert out == ""  # no token for `$(studygroups token …)` to capture
    assert str(tmp_path / SECRET_FILE) in err
    assert "DATA_DIR" in err
    assert "JWT_SECRET" in err
    assert "--new-secret" in err
    assert not (tmp_path / SECRET_FILE).exists()


def test_token_with_new_secret_creates_the_data_dirs_secret_that_serve_then_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    assert main([*TOKEN_ARGS, "--new-secret", "--ttl", "10s"]) == 0

    token = capsys.readouterr().out.strip()
    served = Settings.from_env({"DATA_DIR": str(tmp_path)})  # what `serve` verifies with
    claims = jwt.decode(token, served.jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == "ana"
    assert claims["exp"] - claims["iat"] == 10


def test_serve_still_creates_the_data_dirs_secret_when_there_is_none(tmp_path: Path) -> None:
    # `serve` reads its settings like this; only `token` refuses to invent a secret.
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})

    assert settings.jwt_secret_source == str(tmp_path / SECRET_FILE)
    assert (tmp_path / SECRET_FILE).read_text().strip() == settings.jwt_secret


def test_migrate_says_which_revision_it_went_from_and_to_and_when_there_was_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    caplog.set_level(logging.INFO, logger="studygroups")

    assert main(["migrate"]) == 0
    first = [r.getMessage() for r in caplog.records if r.name == "studygroups"]
    caplog.clear()
    assert main(["migrate"]) == 0
    again = [r.getMessage() for r in caplog.records if r.name == "studygroups"]

    assert any(line.startswith("Database migrated from revision (empty) to 0004") for line in first)
    assert any(line.startswith("Database schema at revision 0004") for line in again)
    assert any(line.endswith("nothing to migrate") for line in again)


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A data directory and a secret in the environment; the test sets the rest with the
    monkeypatch it is given."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    return monkeypatch


@pytest.fixture
def unreachable_database(configured: pytest.MonkeyPatch) -> None:
    """The environment of a process whose PostgreSQL is down: nothing listens on port 1."""
    configured.setenv("DATABASE_URL", "postgresql+asyncpg://ana:hunter2@127.0.0.1:1/studygroups")


@pytest.mark.usefixtures("unreachable_database")
def test_migrate_that_cannot_reach_the_database_says_so_in_one_line_and_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate"]) == 1

    said = capsys.readouterr().err
    assert said.startswith("studygroups: cannot migrate: could not connect to postgresql")
    assert "127.0.0.1:1/studygroups" in said
    assert "Connect call failed" in said
    assert "hunter2" not in said  # the password is not printed
    assert "Traceback" not in said


@pytest.mark.usefixtures("unreachable_database")
def test_serve_that_cannot_reach_the_database_to_migrate_exits_with_that_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 1

    said = capsys.readouterr().err
    assert "studygroups: cannot migrate: could not connect to" in said
    assert "Traceback" not in said


def test_migrate_hides_a_password_given_in_the_urls_query_too(
    configured: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configured.setenv("DATABASE_URL", "postgresql+asyncpg://ana@127.0.0.1:1/sg?password=hunter2")

    assert main(["migrate"]) == 1

    said = capsys.readouterr().err
    assert "hunter2" not in said
    assert "127.0.0.1:1/sg?password=***" in said


def test_migrate_gives_a_database_that_never_answers_db_pool_timeout_then_says_it_timed_out(
    configured: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as silent:  # the kernel accepts into the backlog; nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        configured.setenv("DATABASE_URL", f"postgresql://ana@127.0.0.1:{port}/sg?ssl=disable")
        configured.setenv("DB_POOL_TIMEOUT", "1")
        started = time.monotonic()

        assert main(["migrate"]) == 1

        waited = time.monotonic() - started
    said = capsys.readouterr().err.rstrip()
    assert said.endswith(f"127.0.0.1:{port}/sg?ssl=disable: no answer (timed out)")
    assert waited < 10  # not asyncpg's 60 s


@pytest.mark.usefixtures("configured")
def test_serve_on_a_port_already_taken_says_so_in_one_line_and_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 1

    said = capsys.readouterr().err
    assert said == f"studygroups: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_a_database_url_the_service_cannot_use_stops_it_in_one_line_before_anything_starts(
    configured: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configured.setenv("DATABASE_URL", "postgresql://ana:hunter2@db/sg?connect_timeout=10")

    with pytest.raises(SystemExit) as stopped:
        main(["serve"])

    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert said == (
        "studygroups: DATABASE_URL: remove connect_timeout=; "
        "the connect timeout is DB_POOL_TIMEOUT (seconds)\n"
    )
