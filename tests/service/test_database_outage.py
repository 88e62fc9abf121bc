"""With the database unreachable, requests fail clearly (503) and the process keeps running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from studygroups.app import build
from studygroups.storage.database import Database, is_connection_error
from tests.conftest import auth, make_settings
from tests.e2e.cluster import free_port


async def test_requests_get_503_with_a_clear_message_when_the_database_is_unreachable(
    tmp_path: Path,
) -> None:
    closed = free_port()
    service = build(
        make_settings(f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/none", tmp_path)
    )
    transport = httpx.ASGITransport(app=service.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        created = await client.post("/groups", json={"name": "G"}, headers=auth("ana"))
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")

    assert created.status_code == 503
    assert created.json()["statusCode"] == 503
    assert "database is unavailable" in created.json()["message"]
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable"
    assert alive.status_code == 200
    await service.database.dispose()


async def test_a_write_that_finds_every_pooled_connection_busy_gets_503_and_changes_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    service = build(
        make_settings(
            postgres_url, tmp_path, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2
        )
    )
    transport = httpx.ASGITransport(app=service.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        async with service.database.engine.connect():  # the pool's one connection, held
            refused = await client.post("/groups", json={"name": "G"}, headers=auth("ana"))
        listed = await client.get("/groups", headers=auth("ana"))

    assert refused.status_code == 503
    assert "database is unavailable" in refused.json()["message"]
    assert listed.status_code == 200 and listed.json() == []
    await service.database.dispose()


async def _backend_pid(database: Database) -> int:
    async with database.reading() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    other = Database(url)
    try:
        async with other.reading() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_pooled_connection_the_database_dropped_while_idle_is_replaced_before_use(
    postgres_url: str,
) -> None:
    database = Database(postgres_url, pool_size=1, max_overflow=0, ping_if_idle_seconds=0.2)
    try:
        first = await _backend_pid(database)
        await _terminate(postgres_url, first)  # a database restart, as the pool sees it
        await asyncio.sleep(0.3)  # idle past the ping age: checked at checkout
        second = await _backend_pid(database)
    finally:
        await database.dispose()

    assert second != first


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_drop_fails_one_read_only(
    postgres_url: str,
) -> None:
    database = Database(postgres_url, pool_size=1, max_overflow=0, ping_if_idle_seconds=60)
    try:
        first = await _backend_pid(database)
        await _terminate(postgres_url, first)
        with pytest.raises(DBAPIError) as failed:
            await _backend_pid(database)  # no ping: the dropped connection is used, and fails
        second = await _backend_pid(database)  # the pool replaced it
    finally:
        await database.dispose()

    assert is_connection_error(failed.value)
    assert second != first
