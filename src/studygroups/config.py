"""Settings read from the environment (and CLI flags), built once by the caller, never at import."""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from studygroups.database_url import DatabaseUrlError, connectable
from studygroups.ratelimit import LIMITS

log = logging.getLogger("studygroups.config")

SECRET_FILE = ".studygroups-jwt-secret"
DEFAULT_FRONTEND_URL = "http://localhost:3000"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output, 256 bits.
SECRET_MIN_BYTES = 32
NEW_SECRET_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class ConfigError(ValueError):
    """A setting the service refuses to start with; the message says how to fix it."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number (a limit: zero or less would refuse everything)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, got {value}")
    return value


def _redis_prefix(env: Mapping[str, str]) -> str:
    prefix = env.get("REDIS_PREFIX") or "sg"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", prefix):
        raise ConfigError(
            f"REDIS_PREFIX must be 1-64 letters, digits, '_', '.' or '-', got {prefix!r}"
        )
    return prefix


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with; see the configuration table in README.md."""

    database_url: str
    jwt_secret: str
    redis_url: str | None = None
    redis_prefix: str = "sg"  # REDIS_PREFIX: the keys and channel of this deployment in Redis
    frontend_urls: tuple[str, ...] = (DEFAULT_FRONTEND_URL,)
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    data_dir: Path = field(default_factory=Path.cwd)
    db_pool_size: int = 20  # opened as needed and kept: overflow connections close at check-in
    db_max_overflow: int = 0
    db_pool_timeout: float = 10.0
    max_body_bytes: int = 64 * 1024
    presence_ttl_seconds: int = 30
    replay_limit: int = 1000
    # -- Socket.IO frames (sec-frames): inbound events per socket, see docs/security.md ------
    socket_events_per_second: float = 30.0
    socket_event_burst: int = 120
    socket_event_flood_limit: int = 300
    # -- connections and resources (docs/security.md "Connections and resources") --
    socket_max_buffered_bytes: int = 4 * 1024 * 1024
    auth_timeout_seconds: float = 10.0
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    max_connections: int = 10_000
    rest_reads_per_second: float = 20.0
    rest_read_burst: int = 60
    rest_writes_per_second: float = LIMITS["rest_write"].rate
    rest_write_burst: int = int(LIMITS["rest_write"].burst)
    # -- sessions, tokens and recovery (sec-session) --
    replay_max_bytes: int = 1024 * 1024  # a join ack's `missed` beyond this answers resync
    max_sockets_per_user: int = 20  # per process; the next connection is refused
    # -- secrets and files (issue 9): where jwt_secret came from, said by `token` and errors
    jwt_secret_source: str = "JWT_SECRET"
    # -- group administration (issue 15): the group's content playlist
    max_group_contents: int = 500
    # -- the console and development sign-in (console, issue 13) --
    dev_login: bool = False  # DEV_LOGIN=1: POST /dev/token mints tokens even with JWT_SECRET
    dev_token_ttl_seconds: int = 8 * 3600  # DEV_TOKEN_TTL_SECONDS: lifetime of a /dev/token
    # -- observability: FastAPI's native OpenTelemetry, on when the environment has any OTEL_*
    # variable (or FASTAPI_OTEL_AUTO_CONFIGURE); docs/deployment.md "OpenTelemetry"
    opentelemetry: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read the environment; with no JWT_SECRET, use (or create) the data directory's secret.
        `serve`, `migrate` and `token` all find the secret here, so they cannot disagree."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("DATA_DIR") or Path.cwd()).absolute()
        try:  # libpq's URLs as providers hand them out, made asyncpg's (database_url.py)
            database_url = connectable(
                env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'studygroups.db'}"
            )
        except DatabaseUrlError as error:
            raise ConfigError(str(error)) from None
        frontend = env.get("FRONTEND_URL") or DEFAULT_FRONTEND_URL
        settings = cls(
            database_url=database_url,
            jwt_secret=env.get("JWT_SECRET") or "",
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=_redis_prefix(env),
            frontend_urls=tuple(
                url.strip().rstrip("/") for url in frontend.split(",") if url.strip()
            ),
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            data_dir=data_dir,
            db_pool_size=_positive_int(env, "DB_POOL_SIZE", 20),  # SQLAlchemy reads 0 as no limit
            db_max_overflow=_non_negative_int(env, "DB_MAX_OVERFLOW", 0),  # -1: no limit at all
            db_pool_timeout=float(_positive_int(env, "DB_POOL_TIMEOUT", 10)),  # 0: none would wait
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            presence_ttl_seconds=_int(env, "PRESENCE_TTL_SECONDS", 30),
            # -- Socket.IO frames (sec-frames) -----------------------------------------------
            socket_events_per_second=float(_int(env, "SOCKET_EVENTS_PER_SECOND", 30)),
            socket_event_burst=_int(env, "SOCKET_EVENT_BURST", 120),
            socket_event_flood_limit=_int(env, "SOCKET_EVENT_FLOOD_LIMIT", 300),
            # -- connections and resources --
            socket_max_buffered_bytes=_positive_int(
                env, "SOCKET_MAX_BUFFERED_BYTES", 4 * 1024 * 1024
            ),
            auth_timeout_seconds=_positive(env, "AUTH_TIMEOUT_SECONDS", 10.0),
            http_header_timeout_seconds=_positive(env, "HTTP_HEADER_TIMEOUT_SECONDS", 10.0),
            http_body_timeout_seconds=_positive(env, "HTTP_BODY_TIMEOUT_SECONDS", 30.0),
            max_connections=_positive_int(env, "MAX_CONNECTIONS", 10_000),
            rest_reads_per_second=_positive(env, "REST_READS_PER_SECOND", 20.0),
            rest_read_burst=_positive_int(env, "REST_READ_BURST", 60),
            rest_writes_per_second=_positive(
                env, "REST_WRITES_PER_SECOND", LIMITS["rest_write"].rate
            ),
            rest_write_burst=_positive_int(
                env, "REST_WRITE_BURST", int(LIMITS["rest_write"].burst)
            ),
            # -- sessions, tokens and recovery (sec-session) --
            replay_max_bytes=_positive_int(env, "REPLAY_MAX_BYTES", 1024 * 1024),
            max_sockets_per_user=_positive_int(env, "MAX_SOCKETS_PER_USER", 20),
            # -- group administration (issue 15): the group's content playlist
            max_group_contents=_positive_int(env, "MAX_GROUP_CONTENTS", 500),
            # -- the console and development sign-in (console) --
            dev_login=env.get("DEV_LOGIN", "").strip() == "1",
            dev_token_ttl_seconds=_positive_int(env, "DEV_TOKEN_TTL_SECONDS", 8 * 3600),
            opentelemetry=any(name.startswith("OTEL_") for name in env)
            or bool(env.get("FASTAPI_OTEL_AUTO_CONFIGURE")),
        )
        if overrides:
            settings = replace(settings, **overrides)  # type: ignore[arg-type]
        if not settings.jwt_secret:
            settings = replace(
                settings,
                jwt_secret=local_secret(settings.data_dir),
                jwt_secret_source=str(settings.data_dir / SECRET_FILE),
            )
        check_secret_length(settings.jwt_secret, settings.jwt_secret_source)
        return settings

    @property
    def dev_sign_in(self) -> bool:
        """POST /dev/token is served: with DEV_LOGIN=1, or when the secret was generated here
        (no JWT_SECRET: a development setup). docs/security.md "Development sign-in"."""
        return self.dev_login or self.jwt_secret_source != "JWT_SECRET"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def check_secret_length(secret: str, source: str) -> None:
    """Refuse an HS256 secret shorter than RFC 7518 allows: short ones can be brute-forced."""
    size = len(secret.encode())
    if size < SECRET_MIN_BYTES:
        raise ConfigError(
            f"the JWT secret from {source} is {size} bytes; HS256 needs at least "
            f"{SECRET_MIN_BYTES} (RFC 7518 section 3.2): set a longer one, e.g. `{NEW_SECRET_HINT}`"
        )


def local_secret(data_dir: Path) -> str:
    """The data directory's JWT secret, created once (random, 0600) so `token` and `serve` agree.

    An existing file is used only if it is a regular file of this user that nobody else may read
    or write: a secret others can read lets them mint tokens, one they can plant decides them.
    """
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO cannot stall us
    except FileNotFoundError:
        return _create_secret(data_dir, path)
    except OSError as error:  # a symbolic link (ELOOP), a directory, no permission
        raise ConfigError(
            f"cannot use the JWT secret file {path}: {error.strerror}; it must be a regular file "
            f"of this user with mode 0600 (or set JWT_SECRET)"
        ) from None
    with os.fdopen(fd) as handle:
        _check_private(path, os.fstat(handle.fileno()))
        return handle.read().strip()


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"the JWT secret file {path} is not a regular file; remove it")
    if info.st_uid != os.geteuid():
        raise ConfigError(
            f"the JWT secret file {path} belongs to uid {info.st_uid}, not to this user "
            f"(uid {os.geteuid()}): someone else chose it. Remove it (a new one is generated) "
            "or set JWT_SECRET"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"the JWT secret file {path} has mode {mode:04o}: group or others may read or write "
            f"it. Run `chmod 600 {path}`, and replace the secret if others may have read it"
        )


def _create_secret(data_dir: Path, path: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another process created it meanwhile: use theirs
        return local_secret(data_dir)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    log.warning(
        "JWT_SECRET is not set: created a random secret in %s; set JWT_SECRET in production", path
    )
    return secret
