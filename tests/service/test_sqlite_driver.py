"""The SQLite driver (storage/sqlite_driver.py: statements on the loop, COMMIT on aiosqlite's
thread) behaves as aiosqlite does for everything SQLAlchemy asks of it: rows, counts, ids,
errors, transactions, streaming, and commits that other connections see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from studygroups.storage.database import Database
from studygroups.storage.sqlite_driver import LoopConnection


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    try:
        yield database
    finally:
        await database.dispose()


async def test_connections_are_the_loop_kind(database: Database) -> None:
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, LoopConnection)


async def test_inserts_report_their_count_and_id_and_selects_return_every_row(
    database: Database,
) -> None:
    async with database.engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.rowcount == 1
        assert inserted.lastrowid == 1
        many = await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(250)]
        )
        assert many.rowcount == 250
    async with database.engine.connect() as connection:
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert result.keys() == ["id", "name"]
        assert result.fetchone() == (1, "a")
        assert [row.name for row in result.fetchmany(2)] == ["n0", "n1"]
        assert len(result.fetchall()) == 248
        assert result.fetchone() is None


async def test_a_streamed_result_yields_every_row_once_in_order(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"{i:04}"} for i in range(1500)]
        )
    async with database.engine.connect() as connection:
        stream = await connection.stream(text("SELECT name FROM t ORDER BY id"))
        names = [name async for (name,) in stream]
    assert names == [f"{i:04}" for i in range(1500)]


async def test_a_constraint_violation_is_raised_and_its_transaction_rolls_back(
    database: Database,
) -> None:
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (name) VALUES ('same')"))
            await connection.execute(text("INSERT INTO t (name) VALUES ('same')"))
    async with database.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM t"))
    assert count == 0


async def test_an_explicit_rollback_undoes_the_open_transaction(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('gone')"))
        await connection.rollback()
        assert await connection.scalar(text("SELECT count(*) FROM t")) == 0


async def test_a_commit_is_seen_by_another_connection_and_survives_a_new_engine(
    database: Database, tmp_path: Path
) -> None:
    async with database.engine.begin() as writer:
        await writer.execute(text("INSERT INTO t (name) VALUES ('kept')"))
    async with database.engine.connect() as reader:
        assert await reader.scalar(text("SELECT name FROM t")) == "kept"
    again = Database(f"sqlite+aiosqlite:///{tmp_path}/driver.db")
    try:
        async with again.engine.connect() as reader:
            assert await reader.scalar(text("SELECT count(*) FROM t")) == 1
    finally:
        await again.dispose()
