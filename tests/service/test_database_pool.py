"""The PostgreSQL pool keeps what a burst opened: the next burst reuses it (a reconnect storm's
joins arrive in bursts; opening a connection costs ~3 ms of CPU and a statement cache)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from studygroups import app
from studygroups.app import build
from studygroups.services.feed import WARM_CONNECTIONS
from studygroups.storage import sessions as session_rows
from tests.conftest import make_settings, serve


@pytest.fixture(autouse=True)
def _warm_without_hurry(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count the connections a start opens ahead, not how fast: on a loaded CI
    machine opening them once took over the start's one-second bound (tests/unit/
    test_warm_start.py tests the bound)."""
    monkeypatch.setattr(app, "WARM_SECONDS", 10.0)


async def test_a_second_burst_of_concurrent_reads_opens_no_new_connection(
    postgres_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(postgres_url, tmp_path))
    database = service.database
    opened: list[object] = []

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        opened.append(dbapi_connection)

    event.listen(database.engine.sync_engine, "connect", on_connect)
    everyone_in = asyncio.Barrier(20)

    async def read() -> None:
        async with database.reading() as db:
            await db.execute(text("SELECT 1"))
            await everyone_in.wait()  # all 20 connections are out at once

    try:
        await asyncio.gather(*(read() for _ in range(20)))
        after_first = len(opened)
        everyone_in = asyncio.Barrier(20)
        await asyncio.gather(*(read() for _ in range(20)))
    finally:
        await database.dispose()

    assert after_first == 20
    assert len(opened) == after_first


async def test_disposing_the_database_ends_its_pooled_connections_together_and_on_the_server(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart's shutdown closes the pool's connections together (one after the other took
    90-160 ms of it), and still says goodbye to the server for each: none is left behind."""
    service = build(make_settings(postgres_url, tmp_path))
    database = service.database
    everyone_in = asyncio.Barrier(8)
    backends: list[int] = []

    async def read() -> None:
        async with database.reading() as db:
            backends.append(int((await db.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
            await everyone_in.wait()

    await asyncio.gather(*(read() for _ in range(8)))
    async with database.reading() as db:  # one checked out again and back: still idle after
        await db.execute(text("SELECT 1"))
    closing, most = 0, 0
    close = asyncpg.Connection.close

    async def counted(connection: asyncpg.Connection, **options: Any) -> None:
        nonlocal closing, most
        closing += 1
        most = max(most, closing)
        try:
            await close(connection, **options)
        finally:
            closing -= 1

    monkeypatch.setattr(asyncpg.Connection, "close", counted)
    await database.dispose()

    admin = create_async_engine(postgres_url, poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            for _ in range(100):  # a backend leaves the view a moment after its socket closes
                alive = (
                    await connection.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                        {"pids": backends},
                    )
                ).scalar_one()
                if alive == 0:
                    break
                await asyncio.sleep(0.02)
    finally:
        await admin.dispose()

    assert len(set(backends)) == 8
    assert most == 8  # all at once, not one after the other
    assert alive == 0


async def test_a_joins_membership_read_on_a_new_connection_sends_only_its_own_statement(
    postgres_url: str, tmp_path: Path
) -> None:
    """After a restart every pooled connection is new, and the joins' batched membership read
    is the first statement on most of them: it must not make the driver look types up in the
    catalog first (asyncpg did so for varchar[]: three more round trips per connection)."""
    service = build(make_settings(postgres_url, tmp_path))
    database = service.database
    sent: list[str] = []
    try:
        async with database.reading() as db:
            driver = (await db.get_raw_connection()).driver_connection
            assert isinstance(driver, asyncpg.Connection)
            driver.add_query_logger(lambda query: sent.append(query.query))
            found = await session_rows.heads_and_memberships(db, [("no-such-session", "ana")])
    finally:
        await database.dispose()

    assert found == {}
    assert len(sent) == 1, sent
    assert "unnest" in sent[0]


async def test_a_started_service_has_connections_open_with_the_joins_reads_prepared(
    postgres_url: str, tmp_path: Path
) -> None:
    """A restart's first joins arrive together: they find pooled connections already open,
    each having run the membership and replay reads (so their statements are prepared there;
    a read that was the first on a new connection waited for its connect and its statements:
    the storm's slowest joins)."""
    service = build(make_settings(postgres_url, tmp_path))
    ran: dict[int, list[str]] = {}  # what each connection the pool opened has run

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        driver = dbapi_connection.driver_connection
        queries = ran[id(driver)] = []
        driver.add_query_logger(lambda query: queries.append(query.query))

    def warmed() -> int:
        return sum(
            1
            for queries in ran.values()
            if any("unnest" in query for query in queries)
            and any("FROM session_event_log" in query for query in queries)
        )

    event.listen(service.database.engine.sync_engine, "connect", on_connect)
    async with serve(service):
        for _ in range(500):  # opened beside the first sockets, not before them
            if warmed() >= WARM_CONNECTIONS:
                break
            await asyncio.sleep(0.01)

    # The one opened before serving is among them, unless the purge or the phase clock had
    # taken it meanwhile: then the 8 are all new.
    assert WARM_CONNECTIONS <= warmed() <= WARM_CONNECTIONS + 1, ran


async def test_a_start_has_one_connection_open_with_the_joins_reads_prepared_before_serving(
    postgres_url: str, tmp_path: Path
) -> None:
    """On the engine's first connection SQLAlchemy learns the server (ten round trips), and
    every connection opened meanwhile waits for it: that one is made before the server says it
    has started, so no socket is served yet, while the loop still has nothing else to do."""
    service = build(make_settings(postgres_url, tmp_path))
    ran: list[list[str]] = []

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        queries: list[str] = []
        ran.append(queries)
        dbapi_connection.driver_connection.add_query_logger(lambda q: queries.append(q.query))

    event.listen(service.database.engine.sync_engine, "connect", on_connect)
    at_start: list[tuple[bool, int]] = []
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    await messages.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            dialect = service.database.engine.dialect
            prepared = [q for q in ran if any("unnest" in query for query in q)]
            at_start.append((dialect.server_version_info is not None, len(prepared)))
            await messages.put({"type": "lifespan.shutdown"})

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    async with asyncio.timeout(10):
        await service.asgi(scope, messages.get, send)

    assert at_start == [(True, 1)]


async def test_a_small_pool_has_only_half_of_it_opened_ahead_at_the_start(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The warm-up holds what it opens until all are open: on a small pool it takes half, so
    the first joins and the phase clock still find connections free meanwhile."""
    service = build(make_settings(postgres_url, tmp_path, db_pool_size=4))
    pool = service.database.engine.sync_engine.pool
    with caplog.at_level(logging.INFO, logger="studygroups"):
        async with serve(service):
            async with asyncio.timeout(5):
                while "opened 2 database connections ahead" not in caplog.text:
                    await asyncio.sleep(0.01)
            opened_ahead = pool.checkedin()  # type: ignore[attr-defined]

    assert "opened 1 database connection ahead" in caplog.text
    assert "opened 2 database connections ahead" in caplog.text
    assert opened_ahead >= 2
