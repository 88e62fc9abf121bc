"""Migration 0003 adds session_rounds.correct_option to databases that already hold sessions,
and takes it away again, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from alembic.script import ScriptDirectory
from sqlalchemy import Table, insert, inspect, pool, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from studygroups.storage import migrate
from studygroups.storage.tables import Group, GroupSession, Round, User
from tests.service.test_migrations import _inspect, _schema_differences, url

__all__ = ["url"]  # the SQLite | PostgreSQL database fixture, one fresh database per test

REVISION = "0003"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ROUNDS = cast(Table, Round.__table__)


def _previous() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("unused"))
    previous = script.get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    return previous


def _round_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("session_rounds")}


async def _store_a_session(database_url: str) -> None:
    """A user, a group and a session with one round, written with the columns every revision
    since 0001 has (so it works on a database that is not at head yet)."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(User).values(id="ana", name="Ana", created_at=NOW, updated_at=NOW)
            )
            await connection.execute(
                insert(Group).values(id="g1", name="Physics", created_by="ana", created_at=NOW)
            )
            await connection.execute(
                insert(GroupSession).values(
                    id="s1",
                    group_id="g1",
                    status="RUNNING",
                    mode="PI",
                    layer="L1",
                    rounds_count=1,
                    created_by="ana",
                    last_seq=0,
                    created_at=NOW,
                )
            )
            await connection.execute(
                insert(ROUNDS).values(
                    id="r1",
                    session_id="s1",
                    round_index=1,
                    status="VOTING",
                    prompt_text="Which falls faster?",
                    options=["feather", "hammer", "same"],
                    vote_sec=60,
                    discuss_sec=180,
                    revote_sec=60,
                    explain_sec=180,
                    created_at=NOW,
                )
            )
    finally:
        await engine.dispose()


async def _round(database_url: str, *columns: str) -> tuple[Any, ...]:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            query = select(*(ROUNDS.c[name] for name in columns)).where(ROUNDS.c.id == "r1")
            row = (await connection.execute(query)).one()
    finally:
        await engine.dispose()
    return tuple(row)


async def _set_correct_option(database_url: str, value: str) -> None:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(ROUNDS).where(ROUNDS.c.id == "r1").values(correct_option=value)
            )
    finally:
        await engine.dispose()


async def test_upgrading_a_database_with_sessions_gives_their_rounds_no_correct_option(
    url: str,
) -> None:
    await migrate.upgrade(url, _previous())
    await _store_a_session(url)
    assert "correct_option" not in await _inspect(url, _round_columns)

    await migrate.upgrade(url)

    assert (await migrate.current_revision(url) or "") >= REVISION  # head: this or a later one
    assert await _round(url, "status", "prompt_text", "options", "correct_option") == (
        "VOTING",
        "Which falls faster?",
        ["feather", "hammer", "same"],
        None,
    )
    assert await _inspect(url, _schema_differences) == []


async def test_downgrading_0003_drops_the_correct_option_and_keeps_the_rounds(url: str) -> None:
    await migrate.upgrade(url)
    await _store_a_session(url)
    await _set_correct_option(url, "same")

    await migrate.downgrade(url, _previous())

    assert await migrate.current_revision(url) == _previous()
    assert "correct_option" not in await _inspect(url, _round_columns)
    assert await _round(url, "status", "options") == ("VOTING", ["feather", "hammer", "same"])


async def test_a_downgraded_database_upgrades_again_with_the_column_empty(url: str) -> None:
    await migrate.upgrade(url)
    await _store_a_session(url)
    await _set_correct_option(url, "same")
    await migrate.downgrade(url, _previous())

    await migrate.upgrade(url)

    assert await _round(url, "correct_option") == (None,)
    assert await _inspect(url, _schema_differences) == []
