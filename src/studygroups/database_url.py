"""`DATABASE_URL` as operators are handed it, made into the URL this service connects with.

Hosting providers and `psql` speak libpq's dialect: `postgres://user:pw@host/db?sslmode=require`.
The service reaches PostgreSQL through asyncpg and SQLite through aiosqlite, and SQLAlchemy
passes a URL's query parameters to asyncpg's `connect()` as they are, which refuses libpq's
names (a `TypeError` at the first connection, deep inside the pool). So the URL is read once,
with the settings (config.py): the driver is set, `sslmode=` becomes asyncpg's `ssl=` (same
modes), and what asyncpg would fail on is refused here, in one line that says what to write
instead (docs/deployment.md "DATABASE_URL"). Nothing else in the URL is touched, so the
password is never decoded, re-encoded or shown.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite"})
POSTGRES = "postgresql+asyncpg"
SQLITE = "sqlite+aiosqlite"
# libpq's sslmode values, which asyncpg's `ssl` takes as they are.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# libpq's certificate parameters: asyncpg reads the same files from the environment instead.
CERTIFICATE_VARIABLES = {
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
}
TIMEOUTS = frozenset({"timeout", "connect_timeout"})
# What asyncpg's connect() takes as text from a URL (and SQLAlchemy's own statement cache size);
# `sslmode` is read as `ssl`. Any other parameter would reach connect() and fail there.
PASSED_ON = (
    "ssl",
    "sslmode",
    "target_session_attrs",
    "passfile",
    "krbsrvname",
    "gsslib",
    "prepared_statement_cache_size",
    "host",
    "port",
    "user",
    "password",
    "database",
)
EXAMPLES = "postgresql://user:password@host:5432/database or sqlite:///path/to/studygroups.db"


class DatabaseUrlError(ValueError):
    """A `DATABASE_URL` the service cannot connect with; the message says what to write."""


def connectable(url: str) -> str:
    """`url` with the driver this service uses and asyncpg's names for libpq's parameters."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise DatabaseUrlError(f"DATABASE_URL must be a URL such as {EXAMPLES}")
    scheme = scheme.lower()
    if scheme in SQLITE_SCHEMES:
        return f"{SQLITE}://{rest}"
    if scheme not in POSTGRES_SCHEMES:
        name = scheme.split("+", 1)
        what = (
            f"the driver {name[1]!r}: PostgreSQL is reached through asyncpg"
            if len(name) == 2 and name[0] in POSTGRES_SCHEMES | SQLITE_SCHEMES
            else f"{scheme!r} databases: PostgreSQL and SQLite are"
        )
        raise DatabaseUrlError(f"DATABASE_URL: not supported: {what}; write {EXAMPLES}")
    location, question, query = rest.partition("?")
    if not question:
        return f"{POSTGRES}://{location}"
    return f"{POSTGRES}://{location}?{_asyncpg_query(query)}"


def _asyncpg_query(query: str) -> str:
    """The query string with libpq's `sslmode` as `ssl`; libpq-only parameters refused."""
    pairs = parse_qsl(query, keep_blank_values=True)
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise DatabaseUrlError(f"DATABASE_URL: give {name}= once")
        if name in TIMEOUTS:
            raise DatabaseUrlError(
                f"DATABASE_URL: remove {name}=; the connect timeout is DB_POOL_TIMEOUT (seconds)"
            )
        if name in CERTIFICATE_VARIABLES:
            raise DatabaseUrlError(
                f"DATABASE_URL: remove {name}= and set {CERTIFICATE_VARIABLES[name]} to that file "
                "in the environment instead (asyncpg reads it from there)"
            )
        if name == "channel_binding":
            raise DatabaseUrlError(
                "DATABASE_URL: remove channel_binding=; asyncpg does not bind channels (with "
                "ssl=verify-full it checks the server's certificate instead)"
            )
        if name not in PASSED_ON:
            raise DatabaseUrlError(
                f"DATABASE_URL: remove {name}=; asyncpg takes only {', '.join(PASSED_ON)}"
            )
    if "sslmode" in names and "ssl" in names:
        raise DatabaseUrlError("DATABASE_URL: give sslmode= or ssl=, not both")
    for name, value in pairs:
        if name in ("ssl", "sslmode") and value not in SSL_MODES:
            raise DatabaseUrlError(
                f"DATABASE_URL: {name}={value!r} is not one of {', '.join(SSL_MODES)}"
            )
    if "sslmode" not in names:
        return query
    return urlencode([("ssl" if name == "sslmode" else name, value) for name, value in pairs])
