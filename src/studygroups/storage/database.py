"""The async engine and sessions for SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from studygroups.storage.sqlite_checkpoint import (
    CHECKPOINT_EVERY_SECONDS,
    Checkpointer,
    checkpointable_file,
)
from studygroups.storage.sqlite_driver import use_loop_statements

log = logging.getLogger("studygroups.storage")

# The schema revisions this release's migrations make, oldest first: named here so that
# readiness need not import Alembic (tests/service/test_migrations.py checks they are its own).
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004")


def is_connection_error(error: BaseException) -> bool:
    """True when a driver error means the server is gone rather than the statement was wrong."""
    if isinstance(error, OperationalError | OSError | ConnectionError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class Database:
    """One engine per app. SQLite has one writer at a time, so writes queue on an asyncio lock
    instead of failing with `database is locked`; PostgreSQL serialises per session row."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        max_overflow: int = 0,
        pool_timeout: float = 10.0,
        checkpoint_every_seconds: float = CHECKPOINT_EVERY_SECONDS,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            options = {
                "pool_size": pool_size,
                "max_overflow": max_overflow,
                "pool_timeout": pool_timeout,
                # A server that accepts but never answers (asyncpg waits 60 s by default) is
                # given as long as a busy pool: /readyz and every request answer within it.
                "connect_args": {"timeout": pool_timeout},
                # Not `pool_pre_ping`: on asyncpg its ping is three round trips (BEGIN, ";",
                # ROLLBACK) before every checkout; `_drop_closed` checks for free.
            }
        self.checkpointer: Checkpointer | None = None
        if self.is_sqlite:
            create_sqlite_file_privately(url)
            path = checkpointable_file(url)
            if path is not None:
                self.checkpointer = Checkpointer(path, checkpoint_every_seconds)
        self.engine: AsyncEngine = create_async_engine(
            url, json_serializer=json_dumps, json_deserializer=json_loads, **options
        )
        self._idle: set[Any] = set()  # PostgreSQL: the pool's idle connections (`dispose`)
        self._migrated = False  # the schema was found this release's (or newer): it stays so
        if self.is_sqlite:
            use_loop_statements(self.engine, self.checkpointer)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            if self.checkpointer is not None:
                event.listen(self.engine.sync_engine, "connect", _no_autocheckpoint)
        else:
            # First: a connection `_drop_closed` then replaces is no longer idle either.
            event.listen(self.engine.sync_engine, "checkout", self._checked_out)
            event.listen(self.engine.sync_engine, "checkout", _drop_closed)
            event.listen(self.engine.sync_engine, "checkin", self._checked_in)
            event.listen(self.engine.sync_engine, "close", self._checked_out)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Reads of the live path (joins, gaps, replays) need no transaction: one statement, or
        # several over rows that never change once committed. On PostgreSQL that spares the
        # BEGIN and ROLLBACK round trips; SQLite starts no transaction for a SELECT anyway.
        self._reader: AsyncEngine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._own_writer: sqlite3.Connection | None = None  # see `sqlite_writer`

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Hold SQLite's single writer slot for the duration of a write transaction."""
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    @asynccontextmanager
    async def sqlite_writer(self) -> AsyncIterator[sqlite3.Connection | None]:
        """SQLite's writer slot with a connection of its own, for a write that is a few
        statements and a COMMIT run in one go on the loop, below SQLAlchemy (its session,
        greenlet and pool were about a third of a chat POST's CPU). The caller commits and then
        calls `committed`. None, without the slot, on PostgreSQL and where COMMIT may
        checkpoint on the loop (memory databases, URI filenames: no `checkpointer`)."""
        if self._write_lock is None or self.checkpointer is None:
            yield None
            return
        async with self._write_lock:
            if self._own_writer is None:
                self._own_writer = _open_writer(self.checkpointer.path)
            yield self._own_writer

    def committed(self) -> None:
        """A transaction committed on the `sqlite_writer` connection: the WAL needs a
        checkpoint within the checkpointer's interval."""
        if self.checkpointer is not None:
            self.checkpointer.committed()

    def session(self) -> AsyncSession:
        return self.sessions()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for a few reads outside any transaction: no ORM session, no
        BEGIN or ROLLBACK (each statement sees the database as of its own start)."""
        async with self._reader.connect() as connection:
            yield connection

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 -- any failure means "not ready"
            return False
        return True

    async def readiness(self) -> str:
        """ "ok" when the database answers with this release's schema or a newer one (during a
        rolling deploy the next release may have migrated it; its migrations keep the older
        release working); "not migrated" when it answers with an older schema or none (a
        `--no-migrate` process started before `studygroups migrate`); "unavailable" when it
        does not answer. Once migrated, only the answer is checked."""
        if self._migrated:
            return "ok" if await self.ping() else "unavailable"
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                try:
                    found = await connection.scalar(text("SELECT version_num FROM alembic_version"))
                except DBAPIError as error:
                    if is_connection_error(error) and not is_missing_table(error):
                        raise
                    found = None  # no version table: an empty database
        except Exception:  # noqa: BLE001 -- any failure means "not ready"
            return "unavailable"
        behind = found is None or found in SCHEMA_REVISIONS[:-1]
        self._migrated = not behind
        return "not migrated" if behind else "ok"

    def _checked_in(self, dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None:
            self._idle.add(driver)

    def _checked_out(self, dbapi_connection: DBAPIConnection, *_: object) -> None:
        self._idle.discard(getattr(dbapi_connection, "driver_connection", None))

    async def dispose(self) -> None:
        if not self.is_sqlite:
            # The pool closes its connections one after the other, each waiting for the server
            # to end it: ~5 ms apiece on a busy machine, 90-160 ms of a restart's shutdown for a
            # pool of 20 (bench/run storm). Closed together first, the pool finds them closed.
            idle, self._idle = self._idle, set()
            await asyncio.gather(*(_close_gracefully(driver) for driver in idle))
        await self.engine.dispose()
        if self._own_writer is not None:
            self._own_writer.close()
            self._own_writer = None
        if self.checkpointer is not None:
            await self.checkpointer.close()


def is_missing_table(error: BaseException) -> bool:
    """The statement names a table the database does not have: it is not migrated. PostgreSQL
    says so with SQLSTATE 42P01 (through SQLAlchemy, or from asyncpg itself on the paths that
    use it directly); SQLite with an OperationalError, as for a lost connection."""
    said = error.orig if isinstance(error, DBAPIError) else error
    if getattr(said, "sqlstate", None) == "42P01":
        return True
    return isinstance(error, DBAPIError) and "no such table" in str(said)


def create_sqlite_file_privately(url: str) -> None:
    """Create the database file of an SQLite `url` with mode 0600 before SQLite opens it.

    It holds emails and chat; SQLite itself would create it 0644 under the usual umask. SQLite
    gives the -wal and -shm files it creates beside it the database file's mode, so they are
    private too. An existing file keeps its mode; one others may read is reported at start.
    """
    parsed = make_url(url)
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return
    if name.startswith("file:") or parsed.query.get("uri"):
        return  # a URI filename: SQLite's own options decide
    path = Path(name)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "database file %s has mode %04o: others may read its emails and chat; "
                "run `chmod 600 %s` (its -wal and -shm files follow on the next start)",
                path,
                mode,
                path,
            )
    except OSError:
        return  # a missing directory and the like: SQLite reports it when it opens the file


def json_dumps(value: Any) -> str:
    """JSON columns written with orjson (the standard library for what orjson refuses, such as
    integers beyond 64 bits): a chat POST writes two."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """JSON columns read with orjson: a replay of 50 events spent half its CPU in `json.loads`
    (bench/join_cpu.py); the standard library for what orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _drop_closed(
    dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry, _proxy: object
) -> None:
    """At checkout, a pooled PostgreSQL connection the server closed (a restart, a terminated
    backend: asyncpg sees the socket close) is replaced by a new one, as `pool_pre_ping` did,
    without its round trips. A connection that dies silently (no FIN, no RST) fails its next
    statement instead, which invalidates the pool (`is_connection_error`)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


async def _close_gracefully(driver: Any) -> None:
    """Tell the server goodbye (asyncpg's Terminate) and wait for it to end the connection;
    one that does not answer within a second is dropped."""
    if driver.is_closed():
        return
    try:
        await driver.close(timeout=1.0)
    except Exception:  # asyncpg has dropped it: nothing more to do
        log.debug("a pooled connection did not close cleanly at shutdown", exc_info=True)


def _open_writer(path: str) -> sqlite3.Connection:
    """The `sqlite_writer` connection: the pool's pragmas, checkpoints left to the Checkpointer.
    Used on the loop only, under the writer slot, so SQLite's lock never makes it wait."""
    connection = sqlite3.connect(path, check_same_thread=False)
    _sqlite_pragmas(connection, None)
    _no_autocheckpoint(connection, None)
    return connection


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry | None) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; NORMAL is durable across process crashes in WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: ConnectionPoolEntry | None) -> None:
    """The Checkpointer checkpoints the WAL on its thread; COMMITs on the loop never do."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()
