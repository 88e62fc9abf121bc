"""Migration 0004 adds the rounds' timers and the sessions' auto_advance to databases that
already hold sessions, and takes them away again, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, inspect, pool, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from studygroups.storage import migrate
from studygroups.storage.tables import GroupSession, Round
from tests.service.test_migration_0003 import NOW, _store_a_session
from tests.service.test_migrations import _inspect, _schema_differences, url

__all__ = ["url"]  # the SQLite | PostgreSQL database fixture, one fresh database per test

REVISION, PREVIOUS = "0004", "0003"
ROUNDS = cast(Table, Round.__table__)
SESSIONS = cast(Table, GroupSession.__table__)
TIMER_COLUMNS = {"timer_state", "ends_at", "timer_remaining_ms"}


def _columns(table: str) -> Any:
    def read(connection: Connection) -> set[str]:
        return {column["name"] for column in inspect(connection).get_columns(table)}

    return read


async def _select(database_url: str, query: Any) -> tuple[Any, ...]:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(query)).one()
    finally:
        await engine.dispose()
    return tuple(row)


async def _run(database_url: str, statement: Any) -> None:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(statement)
    finally:
        await engine.dispose()


async def test_upgrading_gives_stored_rounds_no_timer_and_sessions_no_auto_advance(
    url: str,
) -> None:
    await migrate.upgrade(url, PREVIOUS)
    await _store_a_session(url)  # a round left VOTING by a server that ran no clock
    assert not TIMER_COLUMNS & await _inspect(url, _columns("session_rounds"))

    await migrate.upgrade(url, REVISION)

    assert await _select(
        url,
        select(
            ROUNDS.c.status, ROUNDS.c.timer_state, ROUNDS.c.ends_at, ROUNDS.c.timer_remaining_ms
        ),
    ) == ("VOTING", "NONE", None, None)
    assert await _select(url, select(SESSIONS.c.auto_advance)) == (False,)
    assert await _inspect(url, _schema_differences) == []


async def test_downgrading_0004_drops_the_timers_and_keeps_the_rounds(url: str) -> None:
    await migrate.upgrade(url, REVISION)
    await _store_a_session(url)
    await _run(
        url, update(ROUNDS).values(timer_state="RUNNING", ends_at=NOW, timer_remaining_ms=None)
    )
    await _run(url, update(SESSIONS).values(auto_advance=True))

    await migrate.downgrade(url, PREVIOUS)

    assert await migrate.current_revision(url) == PREVIOUS
    assert not TIMER_COLUMNS & await _inspect(url, _columns("session_rounds"))
    assert "auto_advance" not in await _inspect(url, _columns("group_sessions"))
    assert await _select(url, select(ROUNDS.c.status, ROUNDS.c.options)) == (
        "VOTING",
        ["feather", "hammer", "same"],
    )

    await migrate.upgrade(url, REVISION)

    assert await _select(url, select(ROUNDS.c.timer_state)) == ("NONE",)
    assert await _select(url, select(SESSIONS.c.auto_advance)) == (False,)
