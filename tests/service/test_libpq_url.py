"""A PostgreSQL URL written as libpq and hosting providers write it reaches the database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from studygroups.cli import main


def test_a_libpq_url_with_sslmode_migrates_the_database_it_names(
    postgres_ready: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    libpq = postgres_ready.replace("postgresql+asyncpg://", "postgres://") + "?sslmode=disable"
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", libpq)
    caplog.set_level(logging.INFO, logger="studygroups")

    assert main(["migrate"]) == 0

    said = [r.getMessage() for r in caplog.records if r.name == "studygroups"]
    assert any(line.endswith("nothing to migrate") for line in said), said
