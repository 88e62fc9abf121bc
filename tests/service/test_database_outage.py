"""With the database unreachable, requests fail clearly (503) and the process keeps running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from studygroups.app import build
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


async def test_a_database_that_accepts_but_never_answers_gets_503_within_the_pool_timeout(
    tmp_path: Path,
) -> None:
    """A black-holed server (a firewall, a hung host): asyncpg alone would wait 60 s for it,
    and an orchestrator's readiness probe would time out instead of reading 503."""
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, never answered

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    service = build(
        make_settings(
            f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none", tmp_path, db_pool_timeout=1
        )
    )
    transport = httpx.ASGITransport(app=service.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            started = asyncio.get_running_loop().time()
            ready = await client.get("/readyz")
            waited = asyncio.get_running_loop().time() - started
            created = await client.post("/groups", json={"name": "G"}, headers=auth("ana"))
    finally:
        for writer in held:
            writer.close()
        server.close()
        await service.database.dispose()

    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable"
    assert waited < 5
    assert created.status_code == 503
    assert "database is unavailable" in created.json()["message"]


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


async def test_a_pooled_connection_the_server_closed_is_replaced_before_the_next_request_uses_it(
    postgres_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(postgres_url, tmp_path, db_pool_size=1, db_max_overflow=0))
    database = service.database
    try:
        async with database.reading() as connection:
            backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = create_async_engine(postgres_url, poolclass=NullPool)
        async with admin.connect() as other:
            await other.execute(text(f"SELECT pg_terminate_backend({int(backend)})"))
        await admin.dispose()
        await asyncio.sleep(0.2)  # the loop reads the closed socket of the pooled connection

        async with database.reading() as connection:
            now_backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        transport = httpx.ASGITransport(app=service.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            created = await client.post("/groups", json={"name": "G"}, headers=auth("ana"))
    finally:
        await database.dispose()

    assert now_backend != backend
    assert created.status_code == 201
