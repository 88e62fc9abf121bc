"""Settings.from_env: the README's configuration table, read from the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from studygroups.config import SECRET_FILE, Settings


def test_with_nothing_set_the_service_runs_one_process_on_sqlite_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_env({})

    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'studygroups.db'}"
    assert settings.is_sqlite
    assert settings.data_dir == tmp_path
    assert settings.redis_url is None
    assert settings.frontend_urls == ("http://localhost:3000",)
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.log_level == "INFO"
    assert (settings.db_pool_size, settings.db_max_overflow) == (20, 0)
    assert settings.db_pool_timeout == 10.0
    assert settings.max_body_bytes == 65536
    assert settings.presence_ttl_seconds == 30


def test_with_no_jwt_secret_a_random_one_is_created_once_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    env = {"DATA_DIR": str(tmp_path)}

    first = Settings.from_env(env)
    second = Settings.from_env(env)

    secret_file = tmp_path / SECRET_FILE
    assert len(first.jwt_secret) >= 32
    assert first.jwt_secret == second.jwt_secret == secret_file.read_text().strip()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Settings.from_env({"DATA_DIR": str(tmp_path / "other")}).jwt_secret != first.jwt_secret


def test_frontend_url_is_a_comma_separated_list_trimmed_of_spaces_and_trailing_slashes(
    tmp_path: Path,
) -> None:
    env = {
        "DATA_DIR": str(tmp_path),
        "JWT_SECRET": "s" * 32,
        "FRONTEND_URL": " https://school.example/ ,http://localhost:5173,, https://b.example",
    }

    settings = Settings.from_env(env)

    assert settings.frontend_urls == (
        "https://school.example",
        "http://localhost:5173",
        "https://b.example",
    )


def test_every_variable_of_the_table_replaces_its_default(tmp_path: Path) -> None:
    env = {
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql+asyncpg://app@db/studygroups",
        "REDIS_URL": "redis://cache:6379/2",
        "JWT_SECRET": "a-secret-from-the-environment-32-bytes",
        "FRONTEND_URL": "https://school.example",
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "LOG_LEVEL": "debug",
        "DB_POOL_SIZE": "3",
        "DB_MAX_OVERFLOW": "4",
        "DB_POOL_TIMEOUT": "5",
        "MAX_BODY_BYTES": "1024",
        "PRESENCE_TTL_SECONDS": "7",
        "REDIS_PREFIX": "school-a",
    }

    settings = Settings.from_env(env)

    assert settings.database_url == "postgresql+asyncpg://app@db/studygroups"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.jwt_secret == "a-secret-from-the-environment-32-bytes"
    assert not (tmp_path / SECRET_FILE).exists()
    assert settings.frontend_urls == ("https://school.example",)
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 9000, "DEBUG")
    assert (settings.db_pool_size, settings.db_max_overflow) == (3, 4)
    assert settings.db_pool_timeout == 5.0
    assert (settings.max_body_bytes, settings.presence_ttl_seconds) == (1024, 7)
    assert settings.redis_prefix == "school-a"


@pytest.mark.parametrize("prefix", ["has space", "a:b", "x" * 65, "é"])
def test_a_redis_prefix_outside_its_alphabet_is_refused(tmp_path: Path, prefix: str) -> None:
    env = {"DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32, "REDIS_PREFIX": prefix}
    with pytest.raises(ValueError, match="REDIS_PREFIX must be 1-64 letters"):
        Settings.from_env(env)


def test_a_variable_set_to_the_empty_string_counts_as_unset(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32, "REDIS_URL": "", "PORT": ""}
    env |= {"FRONTEND_URL": "", "DATABASE_URL": ""}

    settings = Settings.from_env(env)

    assert settings.redis_url is None
    assert settings.port == 8000
    assert settings.frontend_urls == ("http://localhost:3000",)
    assert settings.is_sqlite


def test_a_number_that_is_not_an_integer_is_refused_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PORT must be an integer, got 'eighty'"):
        Settings.from_env({"DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32, "PORT": "eighty"})


def test_a_pool_overflow_without_limit_is_refused(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32, "DB_MAX_OVERFLOW": "-1"}

    with pytest.raises(ValueError, match="DB_MAX_OVERFLOW must be 0 or more, got -1"):
        Settings.from_env(env)


@pytest.mark.parametrize("variable", ["DB_POOL_SIZE", "DB_POOL_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_pool_of_no_connections_or_no_wait_is_refused(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {"DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32, variable: value}

    with pytest.raises(ValueError, match=f"{variable} must be a positive integer, got {value}"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "studygroups"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
        ({"FASTAPI_OTEL_AUTO_CONFIGURE": "true"}, True),
        ({"NOT_OTEL_X": "1"}, False),
    ],
)
def test_fastapis_opentelemetry_is_on_only_when_the_environment_speaks_of_opentelemetry(
    tmp_path: Path, env: dict[str, str], on: bool
) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), **env})

    assert settings.opentelemetry is on
