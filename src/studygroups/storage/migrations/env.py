"""Alembic environment: runs the migrations on the async engine, or on a connection handed in."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from studygroups.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "No database URL: set config.attributes['url'] or the sqlalchemy.url option"
        )
    return str(url)


def _is_sqlite(dialect_name: str) -> bool:
    return dialect_name == "sqlite"


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=_is_sqlite(connection.dialect.name),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_own_engine(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # studygroups.storage.migrate passes the (sync facade of an async) connection it already
    # opened, and locked, through the attributes; the `alembic` CLI gets none and connects here.
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_on_own_engine(_url()))
        return
    raise RuntimeError(
        "Alembic was called from a running event loop without a connection: "
        "use studygroups.storage.migrate instead"
    )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
