"""Users' names and emails from socket tokens: recorded in batches, never waited for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from studygroups.app import Service, build
from studygroups.identity import Identity
from studygroups.services.users import UserDirectory
from studygroups.storage import driver
from studygroups.storage.tables import User
from tests.conftest import make_settings
from tests.e2e.cluster import free_port


async def _names(service: Service) -> dict[str, str | None]:
    async with service.units() as uow:
        rows = await uow.db.execute(select(User.id, User.name))
        return {user_id: name for user_id, name in rows}


def _count_user_inserts(service: Service, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The INSERTs into users sent to the database: through SQLAlchemy (SQLite), or straight
    on asyncpg (PostgreSQL, `driver.execute_many`: one call, one round trip for all rows)."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USERS"):
            statements.append(statement)

    event.listen(service.database.engine.sync_engine, "before_cursor_execute", seen)
    execute_many = driver.execute_many

    async def counted(db: Any, statement: Any, rows: Any) -> None:
        seen(None, None, str(statement.compile(dialect=db.dialect)))
        await execute_many(db, statement, rows)

    monkeypatch.setattr(driver, "execute_many", counted)
    return statements


async def test_the_connections_of_one_moment_are_recorded_by_one_statement(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    inserts = _count_user_inserts(service, monkeypatch)
    directory = UserDirectory(service.units)
    people = [Identity(f"u{i:03}", f"u{i}@example.org", f"User {i}") for i in range(300)]
    for identity in people:
        directory.remember_soon(identity)
    await directory.close()

    names = await _names(service)
    assert {p.user_id: names.get(p.user_id) for p in people} == {p.user_id: p.name for p in people}
    assert len(inserts) == 1


async def test_a_new_name_in_a_later_token_replaces_the_recorded_one_and_a_repeat_writes_nothing(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = UserDirectory(service.units)
    directory.remember_soon(Identity("ana", "ana@example.org", "Ana"))
    await directory.close()
    inserts = _count_user_inserts(service, monkeypatch)
    directory.remember_soon(Identity("ana", "ana@example.org", "Ana"))  # as recorded: skipped
    directory.remember_soon(Identity("ana", "ana@example.org", "Ana María"))
    await directory.close()

    assert (await _names(service))["ana"] == "Ana María"
    assert len(inserts) == 1


async def test_batches_the_database_cannot_take_are_counted_and_the_writer_keeps_going(
    tmp_path: Path,
) -> None:
    closed = free_port()
    down = build(make_settings(f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/none", tmp_path))
    refused: list[int] = []
    directory = UserDirectory(down.units, on_not_recorded=refused.append)
    try:
        directory.remember_soon(Identity("ana", "ana@example.org", "Ana"))
        directory.remember_soon(Identity("bo", "bo@example.org", "Bo"))
        await directory.close()
        directory.remember_soon(Identity("cy", "cy@example.org", "Cy"))
        await directory.close()
    finally:
        await down.database.dispose()

    assert refused == [2, 1]


async def _updated_at(service: Service, user_id: str) -> object:
    async with service.units() as uow:
        return (await uow.db.execute(select(User.updated_at).where(User.id == user_id))).scalar()


async def test_a_record_whose_claims_did_not_change_is_not_rewritten(service: Service) -> None:
    ana = Identity("ana", "ana@example.org", "Ana")
    first = UserDirectory(service.units)
    first.remember_soon(ana)
    await first.close()
    written = await _updated_at(service, "ana")

    after_restart = UserDirectory(service.units)  # knows nothing of what it wrote before
    after_restart.remember_soon(ana)
    await after_restart.close()
    unchanged = await _updated_at(service, "ana")
    after_restart.remember_soon(Identity("ana", "ana@example.org", "Ana B."))
    await after_restart.close()
    renamed = await _updated_at(service, "ana")

    assert unchanged == written
    assert renamed != written and (await _names(service))["ana"] == "Ana B."
