"""DATABASE_URL as hosting providers hand it out (libpq's dialect) is made asyncpg's, or refused
in one line that says what to write instead."""

from __future__ import annotations

import pytest

from studygroups.database_url import DatabaseUrlError, connectable


@pytest.mark.parametrize(
    ("given", "connects_with"),
    [
        ("postgres://ana:pw@db:5432/sg", "postgresql+asyncpg://ana:pw@db:5432/sg"),
        ("postgresql://ana:pw@db/sg", "postgresql+asyncpg://ana:pw@db/sg"),
        ("POSTGRESQL://db/sg", "postgresql+asyncpg://db/sg"),
        ("postgresql+asyncpg://db/sg?ssl=require", "postgresql+asyncpg://db/sg?ssl=require"),
        ("sqlite:///var/lib/sg.db", "sqlite+aiosqlite:///var/lib/sg.db"),
        ("sqlite+aiosqlite:////abs/sg.db", "sqlite+aiosqlite:////abs/sg.db"),
    ],
)
def test_the_driver_is_the_one_the_service_speaks_whatever_the_url_named(
    given: str, connects_with: str
) -> None:
    assert connectable(given) == connects_with


@pytest.mark.parametrize(
    "mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
)
def test_libpqs_sslmode_becomes_asyncpgs_ssl_with_the_same_mode(mode: str) -> None:
    url = f"postgres://ana:pw@db/sg?target_session_attrs=any&sslmode={mode}"

    assert (
        connectable(url) == f"postgresql+asyncpg://ana:pw@db/sg?target_session_attrs=any&ssl={mode}"
    )


def test_the_parameters_asyncpg_takes_from_a_url_pass_as_they_are() -> None:
    query = (
        "target_session_attrs=read-write&passfile=%2Fetc%2Fpgpass&prepared_statement_cache_size=0"
    )

    assert connectable(f"postgres://db/sg?{query}") == f"postgresql+asyncpg://db/sg?{query}"


def test_a_password_with_escaped_characters_is_left_exactly_as_written() -> None:
    url = "postgres://ana:p%40ss%2Fw%3Fd@db/sg?sslmode=require"

    assert connectable(url) == "postgresql+asyncpg://ana:p%40ss%2Fw%3Fd@db/sg?ssl=require"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("mysql://root@db/sg", "not supported: 'mysql' databases"),
        ("postgresql+psycopg://db/sg", "not supported: the driver 'psycopg'"),
        ("db.internal:5432/sg", "DATABASE_URL must be a URL such as postgresql://"),
        ("postgres://db/sg?sslmode=on", "sslmode='on' is not one of disable, allow"),
        ("postgres://db/sg?ssl=true", "ssl='true' is not one of disable, allow"),
        ("postgres://db/sg?sslmode=require&ssl=require", "give sslmode= or ssl=, not both"),
        ("postgres://db/sg?connect_timeout=5", "remove connect_timeout=; the connect timeout is"),
        ("postgres://db/sg?timeout=5", "remove timeout=; the connect timeout is DB_POOL_TIMEOUT"),
        ("postgres://db/sg?sslrootcert=/ca.pem", "remove sslrootcert= and set PGSSLROOTCERT"),
        ("postgres://db/sg?sslkey=/k.pem", "remove sslkey= and set PGSSLKEY"),
        ("postgres://db/sg?sslmode=require&channel_binding=require", "remove channel_binding="),
        ("postgres://db/sg?application_name=sg", "remove application_name=; asyncpg takes only"),
        ("postgres://db/sg?options=-c%20statement_timeout%3D5s", "remove options="),
        ("postgres://db/sg?keepalives=1", "remove keepalives="),
        ("postgres://db/sg?sslnegotiation=direct", "remove sslnegotiation="),
        ("postgres://db/sg?sslmode=disable&sslmode=disable", "give sslmode= once"),
        ("postgres://db/sg?host=a&host=b", "give host= once"),
    ],
)
def test_a_url_asyncpg_would_fail_on_is_refused_saying_what_to_write(given: str, said: str) -> None:
    with pytest.raises(DatabaseUrlError, match="DATABASE_URL") as refused:
        connectable(given)

    assert said in str(refused.value)


def test_a_refusal_never_shows_the_password() -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        connectable("postgres://ana:hunter2@db/sg?sslmode=maybe")

    assert "hunter2" not in str(refused.value)
