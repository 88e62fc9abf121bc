"""Shared fixtures: databases (SQLite and PostgreSQL), built services, tokens, live servers.

PostgreSQL and Redis tests use the real servers on 127.0.0.1. On a laptop without them those
tests skip with the reason; in CI (CI set) a missing server fails the run instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from studygroups.api.shutdown import PromptServer
from studygroups.app import Service, build
from studygroups.cli import server_options
from studygroups.config import Settings
from studygroups.identity import mint_token
from studygroups.storage.migrate import upgrade
from studygroups.storage.tables import Base

SECRET = "test-secret-that-is-long-enough-for-hs256"
PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_TEST_DB = f"studygroups_pytest_{os.getpid()}"  # one per run: runs may overlap
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_TEST_DB}"
REDIS_URL = "redis://127.0.0.1:6379/0"

T = TypeVar("T")


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, port: int) -> None:
    """Skip on a laptop without the server; fail in CI, where it must be there."""
    if _reachable(port):
        return
    reason = f"{name} is not reachable on 127.0.0.1:{port}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: start it (see .ci/run)")
    pytest.skip(reason)


# -- databases ---------------------------------------------------------------------------------


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh loop in another thread (safe from any context)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_in_thread(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    """A freshly created, migrated PostgreSQL database for this test run, dropped after it."""
    require_service("PostgreSQL", 5432)
    run_in_thread(_create_postgres_database())
    yield PG_URL
    run_in_thread(_drop_postgres_database())


async def _drop_postgres_database() -> None:
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)"))
    await admin.dispose()


async def _create_postgres_database() -> None:
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)"))
        await connection.execute(text(f"CREATE DATABASE {PG_TEST_DB}"))
    await admin.dispose()
    await upgrade(PG_URL)


async def _truncate(url: str) -> None:
    """Empty every table (DELETE beats TRUNCATE on tables this small)."""
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> str:
    """Each test using this runs twice: on an SQLite copy and on an emptied PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_ready")
    await _truncate(url)
    return url


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the local server, dropped afterwards."""
    require_service("PostgreSQL", 5432)
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"mig_{uuid.uuid4().hex[:16]}"
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_URL.replace(PG_TEST_DB, name)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def fresh_postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as database_url:
        yield database_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database nothing has migrated yet: a new SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    async with fresh_postgres_database() as database_url:
        yield database_url


@pytest.fixture
async def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "test.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def postgres_url(postgres_ready: str) -> str:
    await _truncate(postgres_ready)
    return postgres_ready


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": SECRET,
        "frontend_urls": ("http://localhost:3000",),
        "data_dir": tmp_path,
    }
    values.update(overrides)
    return Settings(**values)


# -- tokens ------------------------------------------------------------------------------------


def token(user_id: str, name: str | None = None, *, ttl: int | None = 3600) -> str:
    """A valid token for `user_id` (name defaults to the id capitalised)."""
    return mint_token(SECRET, user_id, name or user_id.capitalize(), f"{user_id}@example.org", ttl)


def auth(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user_id)}"}


# -- services and HTTP -------------------------------------------------------------------------


@pytest.fixture
async def service(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    built = build(make_settings(database_url, tmp_path))
    yield built
    await built.database.dispose()


@pytest.fixture
async def http(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process (no socket), on both databases."""
    transport = httpx.ASGITransport(app=service.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class LiveServer:
    """A real uvicorn server on an ephemeral port, in the test's event loop."""

    service: Service
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serve(service: Service) -> AsyncIterator[LiveServer]:
    """Serve until the block ends. python-engineio keeps a long-polling GET open after its
    client left (up to its ping timeout), so shutdown waits at most one second for it."""
    options = {**server_options(service), "timeout_graceful_shutdown": 1}
    config = uvicorn.Config(
        service.asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **options
    )
    server = PromptServer(config)
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
async def live(service: Service) -> AsyncIterator[LiveServer]:
    async with serve(service) as server:
        yield server


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique ids per test, so tests on a shared PostgreSQL never collide."""
    suffix = uuid.uuid4().hex[:8]
    return lambda name: f"{name}-{suffix}"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    require_service("Redis", 6379)
    yield REDIS_URL
