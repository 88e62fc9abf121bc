"""aiosqlite with one thread hop per statement instead of four.

aiosqlite runs every sqlite3 call on its connection's thread, and SQLAlchemy's adapter makes
four such calls per statement (open a cursor, execute, fetch all, close), each a queue put, a
thread wake-up and a loop wake-up. Here a statement is one call that does all four on the
thread and keeps the rows; fetching and closing afterwards read what was kept. Transactions,
errors and results are sqlite3's own, unchanged.
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

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


class OneHopCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy's adapter uses, one hop per statement."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self._next = 0  # index of the next row to fetch
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneHopCursor:
        done = await self._connection.on_thread(_run, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = done
        self._next = 0
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneHopCursor:
        done = await self._connection.on_thread(_run_many, sql, parameters)
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


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors cost one hop per statement."""

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    async def on_thread(self, function: Callable[..., _Done], *args: Any) -> _Done:
        """`function(sqlite3 connection, *args)`, run on the connection's thread."""
        done: _Done = await self._execute(function, self._conn, *args)  # type: ignore[no-untyped-call]
        return done

    async def rollback(self) -> None:
        """sqlite3 rolls back nothing outside a transaction; then skip the hop. The pool resets
        every connection it gets back, also after a COMMIT, which makes this the common case."""
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().rollback()


def _connect(database: str, **options: Any) -> OneHopConnection:
    """What aiosqlite.connect does, with the one-hop connection class."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, **options)
        return connection

    connection = OneHopConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's adapter does with aiosqlite's own
    return connection


def use_one_hop_cursors(engine: AsyncEngine) -> None:
    """Open the engine's SQLite connections as OneHopConnection (the URL's options kept)."""

    def do_connect(
        dialect: Dialect, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
    ) -> Any:
        dbapi: Any = dialect.loaded_dbapi
        return dbapi.connect(*cargs, async_creator_fn=_connect, **cparams)

    event.listen(engine.sync_engine, "do_connect", do_connect)
