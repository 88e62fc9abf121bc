"""The PostgreSQL pool keeps what a burst opened: the next burst reuses it (a reconnect storm's
joins arrive in bursts; opening a connection costs ~3 ms of CPU and a statement cache)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from studygroups.app import build
from tests.conftest import make_settings


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
