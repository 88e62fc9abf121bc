"""Settings read from the environment (and CLI flags), built once by the caller, never at import."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger("studygroups.config")

SECRET_FILE = ".studygroups-jwt-secret"
DEFAULT_FRONTEND_URL = "http://localhost:3000"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number (a limit: zero or less would refuse everything)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with; see the configuration table in README.md."""

    database_url: str
    jwt_secret: str
    redis_url: str | None = None
    frontend_urls: tuple[str, ...] = (DEFAULT_FRONTEND_URL,)
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    data_dir: Path = field(default_factory=Path.cwd)
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 10.0
    max_body_bytes: int = 64 * 1024
    presence_ttl_seconds: int = 30
    replay_limit: int = 1000
    # -- connections and resources (docs/security.md "Connections and resources") --
    socket_max_buffered_bytes: int = 4 * 1024 * 1024
    auth_timeout_seconds: float = 10.0
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    max_connections: int = 10_000
    rest_reads_per_second: float = 20.0
    rest_read_burst: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read the environment; with no JWT_SECRET, use (or create) the data directory's secret."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("DATA_DIR") or Path.cwd())
        database_url = (
            env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'studygroups.db'}"
        )
        frontend = env.get("FRONTEND_URL") or DEFAULT_FRONTEND_URL
        settings = cls(
            database_url=database_url,
            jwt_secret=env.get("JWT_SECRET") or "",
            redis_url=env.get("REDIS_URL") or None,
            frontend_urls=tuple(
                url.strip().rstrip("/") for url in frontend.split(",") if url.strip()
            ),
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            data_dir=data_dir,
            db_pool_size=_int(env, "DB_POOL_SIZE", 10),
            db_max_overflow=_int(env, "DB_MAX_OVERFLOW", 10),
            db_pool_timeout=float(_int(env, "DB_POOL_TIMEOUT", 10)),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            presence_ttl_seconds=_int(env, "PRESENCE_TTL_SECONDS", 30),
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
        )
        if overrides:
            settings = replace(settings, **overrides)  # type: ignore[arg-type]
        if not settings.jwt_secret:
            settings = replace(settings, jwt_secret=local_secret(settings.data_dir))
        return settings

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def local_secret(data_dir: Path) -> str:
    """The data directory's JWT secret, created once (random, 0600) so `token` and `serve` agree."""
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    log.warning(
        "JWT_SECRET is not set: created a random secret in %s; set JWT_SECRET in production", path
    )
    return secret
