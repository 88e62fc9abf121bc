"""`/readyz` tells a database this release cannot use yet (not migrated) from one it can: a
`--no-migrate` process started before `studygroups migrate` is kept out of the balancer instead
of answering 500 to everything."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from studygroups.app import build
from studygroups.cli import main
from studygroups.storage import migrate
from studygroups.storage.database import SCHEMA_REVISIONS
from tests.conftest import auth, make_settings


async def _readyz(url: str, tmp_path: Path) -> list[tuple[int, dict[str, str]]]:
    """/readyz asked twice by one process."""
    service = build(make_settings(url, tmp_path))
    transport = httpx.ASGITransport(app=service.asgi)
    said = []
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(2):
                answer = await client.get("/readyz")
                said.append((answer.status_code, answer.json()["checks"]))
    finally:
        await service.database.dispose()
    return said


async def _set_revision(url: str, revision: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
        )
    await engine.dispose()


def test_the_release_names_every_revision_its_migrations_make_in_order() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("unused"))

    newest_first = [revision.revision for revision in script.walk_revisions()]

    assert tuple(reversed(newest_first)) == SCHEMA_REVISIONS


async def test_a_database_with_no_schema_is_not_ready_and_says_it_is_not_migrated(
    empty_database_url: str, tmp_path: Path
) -> None:
    said = await _readyz(empty_database_url, tmp_path)

    assert said == [(503, {"database": "not migrated"})] * 2


async def test_a_database_at_an_older_revision_is_not_migrated_until_it_is_upgraded(
    empty_database_url: str, tmp_path: Path
) -> None:
    await migrate.upgrade(empty_database_url, SCHEMA_REVISIONS[-2])
    before = await _readyz(empty_database_url, tmp_path)
    await migrate.upgrade(empty_database_url)
    after = await _readyz(empty_database_url, tmp_path)

    assert before == [(503, {"database": "not migrated"})] * 2
    assert after == [(200, {"database": "ok"})] * 2


async def test_a_database_a_newer_release_migrated_is_ready_during_a_rolling_deploy(
    empty_database_url: str, tmp_path: Path
) -> None:
    await migrate.upgrade(empty_database_url)
    await _set_revision(empty_database_url, "9999")  # a revision this release does not know

    assert await _readyz(empty_database_url, tmp_path) == [(200, {"database": "ok"})] * 2


async def test_rest_on_a_database_not_migrated_answers_503_saying_so_not_500(
    empty_database_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(empty_database_url, tmp_path))
    transport = httpx.ASGITransport(app=service.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            listed = await client.get("/groups", headers=auth("ana"))
            created = await client.post("/groups", json={"name": "G"}, headers=auth("ana"))
    finally:
        await service.database.dispose()

    for answer in (listed, created):
        assert answer.status_code == 503, answer.text
        assert answer.json()["message"].startswith("the database is not migrated")


async def test_an_older_release_leaves_a_schema_a_newer_one_made_and_starts_on_it(
    empty_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rollback, or an old process restarting mid-deploy: its `serve` migrates first, and
    Alembic cannot find the newer revision (a traceback and exit 1 before)."""
    await migrate.upgrade(empty_database_url)
    await _set_revision(empty_database_url, "9999")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    caplog.set_level(logging.INFO, logger="studygroups")

    status = await asyncio.to_thread(main, ["migrate"])

    assert status == 0
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "studygroups"]
    assert said == [
        (
            "WARNING",
            "Database schema at revision 9999, which a newer release made: left as it is "
            f"(this release's newest is {SCHEMA_REVISIONS[-1]})",
        )
    ]
    assert await migrate.current_revision(empty_database_url) == "9999"
