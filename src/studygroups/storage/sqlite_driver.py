"""aiosqlite with statements run where they are cheapest: on the event loop, COMMIT included.

aiosqlite runs every sqlite3 call on its connection's thread, and SQLAlchemy's adapter makes
four such calls per statement (open a cursor, execute, fetch all, close), each a queue put, a
thread wake-up and a loop wake-up: more than SQLite itself takes for this service's statements
(indexed, a few rows, a local file in WAL mode). Here a statement is one call that does all
four and keeps the rows, run on the event loop; fetching and closing read what was kept.

COMMIT runs on the loop too when the file's WAL checkpoints are left to a `Checkpointer`
(storage/sqlite_checkpoint.py): in WAL mode with synchronous=NORMAL a COMMIT then only appends
to the -wal file, and the fsyncs of a checkpoint happen on the checkpointer's thread. Without
one (memory databases, URI filenames) COMMIT goes to the connection's thread as aiosqlite does,
since SQLite would checkpoint inside it. A statement never waits for SQLite's write lock
either: one process owns the file (docs/deployment.md), and its writers queue on the Database's
asyncio lock before they write, so `busy_timeout` never blocks the loop. Transactions, errors
and results are sqlite3's own, unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from studygroups.storage.sqlite_checkpoint import Checkpointer

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


class LoopCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy's adapter uses, a statement in one call."""

    arraysize = 1

    def __init__(self, connection: LoopConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self._next = 0  # index of the next row to fetch
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> LoopCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> LoopCursor:
        done = await self._connection.run(_run, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = done
        self._next = 0
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> LoopCursor:
        done = await self._connection.run(_run_many, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = done
        self._next = 0
        return self

    async def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        taken = self._rows[self._next : self._next + size]
        self._next += len(taken)
        return taken

    async def fetchall(self) -> list[Any]:
        taken = self._rows[self._next :]
        self._rows, self._next = [], 0
        return taken

    async def close(self) -> None:
        self._rows, self._next = [], 0


_Done = tuple[_Description, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, sql: str, parameters: Sequence[Any] | None) -> _Done:
    """On the connection's thread: execute, keep every row, close the cursor."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(
    connection: sqlite3.Connection, sql: str, parameters: Iterable[Sequence[Any]]
) -> _Done:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def run_statement(
    connection: LoopConnection, sql: str, parameters: Sequence[Any]
) -> list[Any]:
    """The rows of one statement, as sqlite3 returns them (storage/driver.py's reads)."""
    return (await connection.run(_run, sql, parameters))[1]


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the loop, and COMMIT too when a
    `Checkpointer` keeps the WAL's checkpoints off the loop."""

    checkpointer: Checkpointer | None = None

    def cursor(self) -> LoopCursor:  # type: ignore[override]
        return LoopCursor(self)

    async def run(self, function: Callable[..., _Done], *args: Any) -> _Done:
        """`function(sqlite3 connection, *args)`, on the event loop (see the module's doc)."""
        return function(self._conn, *args)

    async def commit(self) -> None:
        if self.checkpointer is None:
            await super().commit()  # SQLite may checkpoint (and fsync) in it: on the thread
            return
        if self._connection is not None:
            self._connection.commit()
            self.checkpointer.committed()

    async def rollback(self) -> None:
        """On the loop: a rollback writes nothing to disk. Outside a transaction (the pool resets
        every connection it gets back, also after a COMMIT) there is nothing to do."""
        if self._connection is not None and self._connection.in_transaction:
            self._connection.rollback()


def _connect(database: str, checkpointer: Checkpointer | None, **options: Any) -> LoopConnection:
    """What aiosqlite.connect does, with LoopConnection."""

    def connector() -> sqlite3.Connection:
        # used from the loop and from aiosqlite's thread, never both at once (calls are awaited)
        options["check_same_thread"] = False
        connection: sqlite3.Connection = sqlite3.connect(database, **options)
        return connection

    connection = LoopConnection(connector, iter_chunk_size=64)
    connection.checkpointer = checkpointer
    connection._thread.daemon = True  # as SQLAlchemy's adapter does with aiosqlite's own
    return connection


def use_loop_statements(engine: AsyncEngine, checkpointer: Checkpointer | None = None) -> None:
    """Open the engine's SQLite connections as LoopConnection (the URL's options kept); with a
    `checkpointer`, which must then be the only one to checkpoint the file, they commit on the
    loop."""

    def connect(database: str, **options: Any) -> LoopConnection:
        return _connect(database, checkpointer, **options)

    def do_connect(
        dialect: Dialect, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
    ) -> Any:
        dbapi: Any = dialect.loaded_dbapi
        return dbapi.connect(*cargs, async_creator_fn=connect, **cparams)

    event.listen(engine.sync_engine, "do_connect", do_connect)
