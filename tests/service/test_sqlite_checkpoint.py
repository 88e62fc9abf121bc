"""SQLite's WAL is checkpointed by the Database's own thread (storage/sqlite_checkpoint.py), not
inside the COMMITs that run on the event loop: the WAL is still copied into the database file
after commits, and the file is whole when the app stops."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from studygroups.storage.database import Database
from studygroups.storage.sqlite_checkpoint import checkpointable_file


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/wal.db", checkpoint_every_seconds=0.02)
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
    try:
        yield database
    finally:
        await database.dispose()


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied into the database file), as another
    process would see them."""
    with sqlite3.connect(path) as other:
        _, logged, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return logged, copied


async def _insert(database: Database, rows: int) -> None:
    for _ in range(rows):
        async with database.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (body) VALUES (zeroblob(8000))"))


async def test_the_apps_connections_never_checkpoint_inside_a_commit(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.scalar(text("PRAGMA wal_autocheckpoint")) == 0


async def test_commits_are_checkpointed_by_the_checkpointer_soon_after(
    database: Database, tmp_path: Path
) -> None:
    checkpointer = database.checkpointer
    assert checkpointer is not None
    await _insert(database, 50)
    for _ in range(200):
        if checkpointer.passes:
            break
        await asyncio.sleep(0.01)
    assert checkpointer.passes >= 1
    logged, copied = _wal_frames(tmp_path / "wal.db")
    assert logged == copied  # nothing of the WAL is only in the WAL


async def test_the_wal_is_reused_instead_of_growing_while_writes_go_on(
    database: Database, tmp_path: Path
) -> None:
    wal = tmp_path / "wal.db-wal"
    for _ in range(10):
        await _insert(database, 20)  # ~160 KB of pages each time
        await asyncio.sleep(0.06)  # a checkpoint pass in between
    assert wal.stat().st_size < 10 * 20 * 8000 / 2


async def test_everything_committed_is_in_the_database_file_after_dispose(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/kept.db")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        await connection.execute(text("INSERT INTO t (id) VALUES (1), (2), (3)"))
    await database.dispose()
    assert not (tmp_path / "kept.db-wal").exists()  # checkpointed and removed by the last close
    with sqlite3.connect(tmp_path / "kept.db") as other:
        assert other.execute("SELECT count(*) FROM t").fetchone() == (3,)


def test_memory_and_uri_databases_keep_sqlites_own_checkpoints() -> None:
    assert checkpointable_file("sqlite+aiosqlite:///:memory:") is None
    assert checkpointable_file("sqlite+aiosqlite:///file:x.db?mode=ro&uri=true") is None
    assert checkpointable_file("sqlite+aiosqlite:////srv/data/app.db") == "/srv/data/app.db"
