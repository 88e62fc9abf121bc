"""Reads of the live path straight on the database driver (asyncpg, or sqlite3 on the loop).

A reconnect storm's joins each read the membership and head, then the events they missed.
Through SQLAlchemy's execute, a read pays for its greenlet hop, the execution context, the
result object and a processor per column value; here a Core statement is compiled once per
dialect (SQLAlchemy still writes the SQL) and run on the pooled connection's driver, whose rows
come back as plain values: `fetch` answers tuples, with what the driver returns for each type
(asyncpg: the JSON codec SQLAlchemy set up, so JSON is decoded and timestamps are datetimes;
sqlite3: text as stored, so callers decode JSON and timestamps themselves).
Only for reads of plain columns (strings, integers, JSON, timestamps) without bind processing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.compiler import SQLCompiler

from studygroups.storage.sqlite_driver import LoopConnection, run_statement


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of their placeholders
    defaults: dict[str, Any]  # values the statement carries (SQLite's OFFSET 0, say)


_compiled: dict[tuple[int, str], _Compiled] = {}


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    key = (id(statement), dialect.name)
    found = _compiled.get(key)
    if found is None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        names = tuple(compiled.positiontup or ())
        found = _compiled[key] = _Compiled(str(compiled), names, dict(compiled.params))
    return found


def is_sqlite(db: AsyncConnection) -> bool:
    return db.dialect.name == "sqlite"


async def fetch(
    db: AsyncConnection, statement: Select[Any], parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of a module-level `statement` (compiled once: it must live as long as the
    process) with `parameters`, as the driver returns them, on `db`'s pooled connection."""
    compiled = _compile(statement, db.dialect)
    values = [
        parameters[name] if name in parameters else compiled.defaults[name]
        for name in compiled.names
    ]
    raw = await db.get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, LoopConnection):
        return await run_statement(driver, compiled.sql, values)
    rows: Sequence[Sequence[Any]] = await driver.fetch(compiled.sql, *values)  # type: ignore[union-attr]
    return rows


async def fetch_text(
    db: AsyncConnection, sql: str, values: Sequence[Any]
) -> Sequence[Sequence[Any]]:
    """The rows of a statement written for the driver itself (`sql` in its placeholders), on
    `db`'s pooled connection: for what SQLAlchemy's Core does not write (`unnest` of arrays)."""
    raw = await db.get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, LoopConnection):
        return await run_statement(driver, sql, values)
    rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)  # type: ignore[union-attr]
    return rows


async def execute_many(
    db: AsyncConnection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """A module-level `statement` (compiled once) run for every row on `db`'s asyncpg
    connection in one round trip (asyncpg's `executemany`: one transaction of its own when the
    connection is in none, as a reading connection is). PostgreSQL only."""
    compiled = _compile(statement, db.dialect)
    raw = await db.get_raw_connection()
    driver = raw.driver_connection
    assert not isinstance(driver, LoopConnection), "SQLite writes go through its writer slot"
    await driver.executemany(  # type: ignore[union-attr]
        compiled.sql, [[row[name] for name in compiled.names] for row in rows]
    )
