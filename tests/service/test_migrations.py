"""The Alembic migrations build exactly the schema of tables.py, on SQLite and PostgreSQL, and
keep the data they find."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import UniqueConstraint, func, insert, inspect, pool, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from studygroups.storage import migrate
from studygroups.storage.tables import Base, User

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
MODEL_TABLES = frozenset(Base.metadata.tables)
VERSION_TABLE = "alembic_version"

T = TypeVar("T")


def _head() -> str | None:
    return ScriptDirectory.from_config(migrate.alembic_config("unused")).get_current_head()


async def _inspect(url: str, look: Callable[[Connection], T]) -> T:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(look)
    finally:
        await engine.dispose()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    # No filtering: JSON reflects as JSON on both backends and DateTime(timezone=True) as
    # DATETIME / TIMESTAMP WITH TIME ZONE, so any reported difference is a real one.
    return list(compare_metadata(context, Base.metadata))


Names = dict[str, tuple[set[str], dict[tuple[str, ...], str | None]]]


def _index_and_unique_names(connection: Connection) -> Names:
    """Per table: the index names, and the name of the unique constraint on each column list."""
    inspector = inspect(connection)
    found: Names = {}
    for table in MODEL_TABLES:
        # PostgreSQL also lists the index behind each unique constraint; those are constraints.
        indexes = {
            str(index["name"])
            for index in inspector.get_indexes(table)
            if "duplicates_constraint" not in index
        }
        uniques = {
            tuple(unique["column_names"]): unique["name"]
            for unique in inspector.get_unique_constraints(table)
        }
        found[table] = (indexes, uniques)
    return found


def _model_index_and_unique_names() -> Names:
    found: Names = {}
    for name, table in Base.metadata.tables.items():
        indexes = {str(index.name) for index in table.indexes}
        uniques = {
            tuple(column.name for column in constraint.columns): (
                None if constraint.name is None else str(constraint.name)
            )
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)
        }
        found[name] = (indexes, uniques)
    return found


def _without_names_the_models_leave_to_the_server(migrated: Names, models: Names) -> Names:
    """PostgreSQL names an unnamed unique constraint <table>_<column>_key; forget such names."""
    result: Names = {}
    for table, (indexes, uniques) in migrated.items():
        unnamed = {columns for columns, name in models[table][1].items() if name is None}
        result[table] = (
            indexes,
            {columns: None if columns in unnamed else name for columns, name in uniques.items()},
        )
    return result


@pytest.fixture
def url(empty_database_url: str) -> str:
    return empty_database_url


async def test_the_group_admin_migration_0002_follows_0001() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("unused"))

    revision = script.get_revision("0002")
    assert revision is not None and revision.down_revision == "0001"


async def test_the_correct_option_migration_0003_follows_0002() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("unused"))

    revision = script.get_revision("0003")
    assert revision is not None and revision.down_revision == "0002"


async def test_the_phase_clock_migration_is_the_single_head_with_revision_0004() -> None:
    assert _head() == "0004"


async def test_upgrade_creates_every_table_of_the_models(url: str) -> None:
    assert await migrate.current_revision(url) is None
    assert await _inspect(url, _table_names) == set()

    await migrate.upgrade(url)

    assert await _inspect(url, _table_names) == MODEL_TABLES | {VERSION_TABLE}
    assert await migrate.current_revision(url) == _head()


async def test_the_migrated_schema_matches_the_models(url: str) -> None:
    await migrate.upgrade(url)

    assert await _inspect(url, _schema_differences) == []


async def test_the_migrated_schema_names_indexes_and_unique_constraints_as_the_models_do(
    url: str,
) -> None:
    await migrate.upgrade(url)

    migrated = await _inspect(url, _index_and_unique_names)
    models = _model_index_and_unique_names()

    assert _without_names_the_models_leave_to_the_server(migrated, models) == models


async def test_downgrade_to_base_removes_every_table(url: str) -> None:
    await migrate.upgrade(url)

    await migrate.downgrade(url, "base")

    assert await _inspect(url, _table_names) - {VERSION_TABLE} == set()
    assert await migrate.current_revision(url) is None


async def test_the_schema_can_be_rebuilt_after_a_downgrade_to_base(url: str) -> None:
    await migrate.upgrade(url)
    await migrate.downgrade(url, "base")

    await migrate.upgrade(url)

    assert await _inspect(url, _schema_differences) == []


async def test_upgrading_twice_is_a_no_op(url: str) -> None:
    await migrate.upgrade(url)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(User).values(id="user-1", created_at=now, updated_at=now)
            )

        await migrate.upgrade(url)

        async with engine.connect() as connection:
            users = await connection.scalar(select(func.count()).select_from(User))
    finally:
        await engine.dispose()
    assert users == 1
    assert await migrate.current_revision(url) == _head()
    assert await _inspect(url, _schema_differences) == []


async def test_concurrent_upgrades_of_different_databases_in_one_process_both_succeed(
    tmp_path: Path,
) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]

    results = await asyncio.gather(*map(migrate.upgrade, urls), return_exceptions=True)

    assert results == [(None, _head()), (None, _head())]
    for url in urls:
        assert await _inspect(url, _schema_differences) == []


@pytest.mark.postgres
async def test_concurrent_upgrades_on_postgresql_both_succeed_and_one_of_them_migrates(
    fresh_postgres_url: str,
) -> None:
    # return_exceptions: wait for both, so a failing one never outlives the test's database.
    results = await asyncio.gather(
        migrate.upgrade(fresh_postgres_url),
        migrate.upgrade(fresh_postgres_url),
        return_exceptions=True,
    )

    # Each says what it found under the migration lock: the one that waited, the work done.
    assert results.count((None, _head())) == 1
    assert results.count((_head(), _head())) == 1
    assert await migrate.current_revision(fresh_postgres_url) == _head()
    assert await _inspect(fresh_postgres_url, _schema_differences) == []


# Imports first, then waits for "go" on stdin, so that every process upgrades at the same moment.
_SERVER_PROCESS = """
import asyncio, sys
from studygroups.storage.migrate import upgrade
print("ready", flush=True)
sys.stdin.readline()
asyncio.run(upgrade(sys.argv[1]))
"""


async def _upgrade_in_processes_at_once(url: str, count: int) -> list[tuple[int | None, bytes]]:
    """Each process's exit code and output, after `count` processes upgraded `url` together."""
    processes: list[asyncio.subprocess.Process] = []
    try:
        for _ in range(count):
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    _SERVER_PROCESS,
                    url,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
            )
        for process in processes:
            assert process.stdout is not None
            assert await asyncio.wait_for(process.stdout.readline(), timeout=60) == b"ready\n"
        outputs = await asyncio.wait_for(
            asyncio.gather(*(process.communicate(b"go\n") for process in processes)), timeout=60
        )
        return [
            (process.returncode, output)
            for process, (output, _) in zip(processes, outputs, strict=True)
        ]
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


@pytest.mark.postgres
async def test_server_processes_starting_together_on_postgresql_all_succeed(
    fresh_postgres_url: str,
) -> None:
    results = await _upgrade_in_processes_at_once(fresh_postgres_url, count=4)

    assert results == [(0, b"")] * 4
    assert await migrate.current_revision(fresh_postgres_url) == _head()
    assert await _inspect(fresh_postgres_url, _schema_differences) == []


async def _some_advisory_lock_is_awaited(connection: AsyncConnection) -> bool:
    waiting = await connection.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )
    await connection.rollback()
    return bool(waiting)


@pytest.mark.postgres
async def test_upgrade_on_postgresql_waits_while_another_process_holds_the_migration_lock(
    fresh_postgres_url: str,
) -> None:
    engine = create_async_engine(fresh_postgres_url, poolclass=pool.NullPool)
    lock = {"key": migrate.MIGRATION_LOCK_KEY}
    try:
        async with engine.connect() as holder, engine.connect() as observer:
            await holder.execute(text("SELECT pg_advisory_lock(:key)"), lock)
            await holder.commit()  # a session-level lock outlives the transaction
            upgrading = asyncio.create_task(migrate.upgrade(fresh_postgres_url))
            try:
                for _ in range(200):
                    if await _some_advisory_lock_is_awaited(observer) or upgrading.done():
                        break
                    await asyncio.sleep(0.025)
                assert not upgrading.done(), "upgrade did not wait for the migration lock"
                assert await _some_advisory_lock_is_awaited(observer)
                assert await observer.run_sync(_table_names) == set()

                await holder.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
                await holder.commit()
                await asyncio.wait_for(asyncio.shield(upgrading), timeout=30)
            finally:
                if not upgrading.done():
                    upgrading.cancel()
                await asyncio.wait([upgrading])
    finally:
        await engine.dispose()

    assert await migrate.current_revision(fresh_postgres_url) == _head()


# --- constraint names (docs/architecture.md, "Constraint names") ------------------------------

ConstraintNames = dict[str, dict[str, set[tuple[tuple[str, ...], str | None]]]]


def _constraint_names(connection: Connection) -> ConstraintNames:
    """Per table: the primary key, foreign keys and unique constraints as (columns, name)."""
    inspector = inspect(connection)
    found: ConstraintNames = {}
    for table in sorted(MODEL_TABLES & set(inspector.get_table_names())):
        pk = inspector.get_pk_constraint(table)
        found[table] = {
            "pk": {(tuple(pk["constrained_columns"]), pk["name"])},
            "fk": {
                (tuple(fk["constrained_columns"]), fk["name"])
                for fk in inspector.get_foreign_keys(table)
            },
            "uq": {
                (tuple(uq["column_names"]), uq["name"])
                for uq in inspector.get_unique_constraints(table)
            },
        }
    return found


def _model_constraint_names(tables: frozenset[str] = MODEL_TABLES) -> ConstraintNames:
    found: ConstraintNames = {}
    for name in sorted(tables):
        table = Base.metadata.tables[name]
        pk = table.primary_key
        found[name] = {
            "pk": {(tuple(c.name for c in pk.columns), str(pk.name))},
            "fk": {
                (tuple(c.name for c in fk.columns), str(fk.name))
                for fk in table.foreign_key_constraints
            },
            "uq": {
                (tuple(c.name for c in uq.columns), str(uq.name))
                for uq in table.constraints
                if isinstance(uq, UniqueConstraint)
            },
        }
    return found


def _run_0001_as_first_released(connection: Connection) -> None:
    """Revision 0001 as it ran before tables.py had a naming convention: Alembic is given no
    target metadata, so every constraint 0001 leaves unnamed is named by the database."""
    script = ScriptDirectory.from_config(migrate.alembic_config("unused"))
    initial = script.get_revision("0001")
    assert initial is not None
    context = MigrationContext.configure(connection)
    with Operations.context(context):
        initial.module.upgrade()
        context.stamp(script, "0001")


async def _make_0001_database_as_first_released(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_0001_as_first_released)
    finally:
        await engine.dispose()


async def test_the_models_name_every_primary_foreign_and_unique_key_as_the_migrations_do(
    url: str,
) -> None:
    await migrate.upgrade(url)

    assert await _inspect(url, _constraint_names) == _model_constraint_names()


@pytest.mark.postgres
async def test_the_naming_convention_gives_the_names_postgresql_gave_0001s_constraints(
    fresh_postgres_url: str,
) -> None:
    await _make_0001_database_as_first_released(fresh_postgres_url)

    made_before = await _inspect(fresh_postgres_url, _constraint_names)

    assert made_before == _model_constraint_names(MODEL_TABLES - {"group_contents"})


async def test_a_database_made_before_the_naming_convention_upgrades_to_the_models(
    url: str,
) -> None:
    await _make_0001_database_as_first_released(url)
    assert await migrate.current_revision(url) == "0001"

    await migrate.upgrade(url)

    assert await migrate.current_revision(url) == _head()
    assert await _inspect(url, _schema_differences) == []
    assert await _inspect(url, _constraint_names) == _model_constraint_names()


# --- 0002 with data --------------------------------------------------------------------------

TABLES_OF_0001 = MODEL_TABLES - {"group_contents"}


async def _insert_0001_rows(url: str) -> None:
    """A group with two members, a session of it with a round and an event, and a stored retry."""
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    rows: list[tuple[str, list[dict[str, Any]]]] = [
        (
            "users",
            [
                {
                    "id": user,
                    "email": f"{user}@x.org",
                    "name": user,
                    "created_at": now,
                    "updated_at": now,
                }
                for user in ("ana", "bo")
            ],
        ),
        (
            "groups",
            [
                {
                    "id": "g1",
                    "name": "Physics",
                    "scope_type": "course",
                    "scope_id": "p1",
                    "created_by": "ana",
                    "created_at": now,
                }
            ],
        ),
        (
            "group_members",
            [
                {
                    "group_id": "g1",
                    "user_id": user,
                    "role": role,
                    "status": "ACTIVE",
                    "invited_by": None,
                    "created_at": now,
                    "updated_at": now,
                }
                for user, role in (("ana", "OWNER"), ("bo", "MEMBER"))
            ],
        ),
        (
            "group_sessions",
            [
                {
                    "id": "s1",
                    "group_id": "g1",
                    "status": "RUNNING",
                    "mode": "PI",
                    "layer": "L1",
                    "content_id": "lesson-1",
                    "rounds_count": 1,
                    "created_by": "ana",
                    "last_seq": 1,
                    "created_at": now,
                    "started_at": now,
                    "finished_at": None,
                }
            ],
        ),
        (
            "session_rounds",
            [
                {
                    "id": "r1",
                    "session_id": "s1",
                    "round_index": 1,
                    "status": "CREATED",
                    "prompt_text": "Why?",
                    "options": ["A", "B"],
                    "linked_highlight_ids": None,
                    "vote_sec": 60,
                    "discuss_sec": 180,
                    "revote_sec": 60,
                    "explain_sec": 180,
                    "status_changed_at": None,
                    "created_at": now,
                }
            ],
        ),
        (
            "session_event_log",
            [
                {
                    "session_id": "s1",
                    "seq": 1,
                    "event": "session.started",
                    "data": {"sessionId": "s1", "seq": 1},
                    "created_at": now,
                }
            ],
        ),
        (
            "idempotency_keys",
            [
                {
                    "user_id": "ana",
                    "key": "k1",
                    "fingerprint": "f" * 64,
                    "status_code": 200,
                    "body": {"ok": True},
                    "created_at": now,
                }
            ],
        ),
    ]
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            for table, values in rows:
                await connection.execute(insert(Base.metadata.tables[table]), values)
    finally:
        await engine.dispose()


async def _add_playlist_row(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(Base.metadata.tables["group_contents"]).values(
                    group_id="g1",
                    content_id="lesson-1",
                    position=1,
                    added_by="ana",
                    added_at=datetime(2026, 11, 30, tzinfo=UTC),
                )
            )
    finally:
        await engine.dispose()


# Columns later revisions add to 0001's tables: rows are compared on 0001's own columns.
LATER_COLUMNS = {
    "session_rounds": {"correct_option", "timer_state", "ends_at", "timer_remaining_ms"},
    "group_sessions": {"auto_advance"},
}


def _rows_of(tables: frozenset[str]) -> Callable[[Connection], dict[str, list[Any]]]:
    def read(connection: Connection) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for name in sorted(tables):
            table = Base.metadata.tables[name]
            later = LATER_COLUMNS.get(name, set())
            columns = [column for column in table.columns if column.name not in later]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            found[name] = [tuple(row) for row in rows]
        return found

    return read


@pytest.mark.parametrize("made", ["today", "before-names"])
async def test_upgrading_a_database_that_holds_0001_data_keeps_every_row(
    url: str, made: str
) -> None:
    if made == "today":
        await migrate.upgrade(url, "0001")
    else:
        await _make_0001_database_as_first_released(url)
    await _insert_0001_rows(url)
    before = await _inspect(url, _rows_of(TABLES_OF_0001))

    await migrate.upgrade(url)

    assert await _inspect(url, _rows_of(TABLES_OF_0001)) == before
    assert sum(len(rows) for rows in before.values()) == 9
    assert await _inspect(url, _rows_of(frozenset({"group_contents"}))) == {"group_contents": []}
    assert await _inspect(url, _schema_differences) == []


async def test_downgrading_0002_drops_only_the_playlists_and_upgrading_again_works(
    url: str,
) -> None:
    await migrate.upgrade(url)
    await _insert_0001_rows(url)
    await _add_playlist_row(url)
    before = await _inspect(url, _rows_of(TABLES_OF_0001))

    await migrate.downgrade(url, "0001")

    assert await migrate.current_revision(url) == "0001"
    assert await _inspect(url, _table_names) == TABLES_OF_0001 | {VERSION_TABLE}
    assert await _inspect(url, _rows_of(TABLES_OF_0001)) == before

    await migrate.upgrade(url)
    await _add_playlist_row(url)  # the same content again: the old row went with the table

    assert await _inspect(url, _rows_of(TABLES_OF_0001)) == before
    assert await _inspect(url, _schema_differences) == []
