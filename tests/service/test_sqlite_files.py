"""The SQLite database holds emails and chat: its file and the -wal and -shm files beside it are
created readable and writable by their owner only (0600), whatever the umask lets through."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from studygroups.storage.database import Database
from studygroups.storage.migrate import upgrade


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    """The umask most systems run services with: files SQLite creates itself come out 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(path: Path) -> dict[str, str]:
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    return {f.name: oct(f.stat().st_mode & 0o777) for f in files}


async def _modes_while_writing(path: Path) -> dict[str, str]:
    """The modes of the three files while a connection holds them open after a write."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("CREATE TABLE IF NOT EXISTS notes (body TEXT)"))
            await connection.execute(text("INSERT INTO notes VALUES ('ana@example.org')"))
            await connection.commit()
            return _modes(path)
    finally:
        await database.dispose()


async def test_migrate_creates_the_database_and_its_wal_and_shm_files_private(
    tmp_path: Path,
) -> None:
    path = tmp_path / "studygroups.db"

    await upgrade(f"sqlite+aiosqlite:///{path}")
    modes = await _modes_while_writing(path)

    assert modes == {
        "studygroups.db": oct(0o600),
        "studygroups.db-wal": oct(0o600),
        "studygroups.db-shm": oct(0o600),
    }


async def test_serving_without_migrating_first_creates_the_files_private_too(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fresh.db"

    modes = await _modes_while_writing(path)

    assert set(modes.values()) == {oct(0o600)}


async def test_an_existing_database_keeps_its_mode_and_one_others_may_read_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)

    Database(f"sqlite+aiosqlite:///{path}")

    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert f"run `chmod 600 {path}`" in caplog.text
