"""Run the Alembic migrations from async code, once per database even when processes race."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import make_url, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from studygroups.storage.database import SCHEMA_REVISIONS, create_sqlite_file_privately

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"

# pg_advisory_lock key that serialises migrations across processes: b"STUDYGRP" as a bigint.
MIGRATION_LOCK_KEY = int.from_bytes(b"STUDYGRP", "big")

_Command = Callable[[Config, str], None]

# Alembic's `context` and `op` are process-wide proxies, so one command runs at a time per process.
_ALEMBIC = threading.Lock()


CONNECT_TIMEOUT_SECONDS = 60.0  # asyncpg's own default; `studygroups migrate` gives DB_POOL_TIMEOUT


class DatabaseUnreachable(Exception):
    """No connection to the database to migrate: refused, no answer, or the login refused."""


def _shown(url: str) -> str:
    """`url` with its password hidden, in the userinfo or as a `password` query parameter."""
    parsed = make_url(url)
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "hidden"})
    return parsed.render_as_string(hide_password=True).replace("password=hidden", "password=***")


def alembic_config(url: str) -> Config:
    """An Alembic Config for `url` with no alembic.ini: env.py reads the URL from attributes."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["url"] = url
    return config


async def upgrade(
    url: str, revision: str = "head", *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS
) -> tuple[str | None, str | None]:
    """Migrate the database at `url` up to `revision`; concurrent callers migrate it once.
    The revisions before and after, as this caller found them under the migration lock (the
    callers that waited find the winner's work done: before == after). A PostgreSQL that
    does not answer within `connect_timeout` seconds is `DatabaseUnreachable`."""
    return await asyncio.to_thread(_run_in_thread, url, command.upgrade, revision, connect_timeout)


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" drops every table)."""
    await asyncio.to_thread(
        _run_in_thread, url, command.downgrade, revision, CONNECT_TIMEOUT_SECONDS
    )


async def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None when it has never been migrated."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def is_newer(revision: str | None) -> bool:
    """A revision this release's migrations do not make: a newer release's."""
    return revision is not None and revision not in SCHEMA_REVISIONS


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _run_in_thread(
    url: str, alembic_command: _Command, revision: str, connect_timeout: float
) -> tuple[str | None, str | None]:
    """Run one command on its own event loop; a cancelled caller does not stop it midway."""
    with _ALEMBIC:
        return asyncio.run(_run(url, alembic_command, revision, connect_timeout))


async def _run(
    url: str, alembic_command: _Command, revision: str, connect_timeout: float
) -> tuple[str | None, str | None]:
    create_sqlite_file_privately(url)  # `migrate` usually creates the file: make it 0600
    connect_args = {} if url.startswith("sqlite") else {"timeout": connect_timeout}
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    try:
        try:
            connection = await engine.connect()
        except (OSError, DBAPIError) as error:
            reason = error.orig if isinstance(error, DBAPIError) else error
            said = "no answer (timed out)" if isinstance(reason, TimeoutError) else str(reason)
            raise DatabaseUnreachable(f"could not connect to {_shown(url)}: {said}") from error
        try:
            if connection.dialect.name == "postgresql":
                await _lock(connection)
            before = await connection.run_sync(_current_revision)
            if alembic_command is command.upgrade and is_newer(before):
                # A newer release migrated it (a rolling deploy, a rollback): this release can
                # neither find that revision nor go down from it, and need not; its processes
                # serve on it (docs/architecture.md, "migrations keep the release before").
                return before, before
            await connection.run_sync(_run_sync, url, alembic_command, revision)
            after = await connection.run_sync(_current_revision)
            # Alembic leaves a transaction it found open to its owner; this also ends the lock's.
            await connection.commit()
        finally:
            await connection.close()
    finally:
        await engine.dispose()
    return before, after


async def _lock(connection: AsyncConnection) -> None:
    """Wait for PostgreSQL's migration lock, held until this connection's transaction ends.

    A process that waited runs Alembic in a transaction that began before the winner committed;
    under READ COMMITTED (forced here, whatever the server's default) each later statement sees
    the winner's work, so it finds the database at head and does nothing. SQLite gets no lock:
    it serves single-process deployments.
    """
    await connection.execution_options(isolation_level="READ COMMITTED")
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
    )


def _run_sync(connection: Connection, url: str, alembic_command: _Command, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    alembic_command(config, revision)
