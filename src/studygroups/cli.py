"""`studygroups serve | migrate | token`: argparse front door; nothing else lives here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from studygroups.config import SECRET_FILE, Settings
from studygroups.identity import mint_token, parse_ttl

if TYPE_CHECKING:
    from studygroups.app import Service


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per plugin otherwise


def _migrate(settings: Settings) -> bool:
    """Upgrade the database to the latest schema and say which revision it went from and to;
    whether it could. One that cannot be reached is said in one line on stderr, not a trace:
    a process manager restarting `serve` would print it at every attempt."""
    from studygroups.storage.database import SCHEMA_REVISIONS, create_sqlite_file_privately
    from studygroups.storage.migrate import DatabaseUnreachable, is_newer, upgrade

    url = settings.database_url

    async def run() -> tuple[str | None, str | None]:
        create_sqlite_file_privately(url)  # before anything opens it: 0600
        # The revisions as found under the migration lock; a silent server is given as long
        # as the pool gives it (DB_POOL_TIMEOUT), not asyncpg's 60 s.
        return await upgrade(url, connect_timeout=settings.db_pool_timeout)

    try:
        before, after = asyncio.run(run())
    except DatabaseUnreachable as error:
        print(f"studygroups: cannot migrate: {error}", file=sys.stderr)
        return False
    log = logging.getLogger("studygroups")
    if is_newer(after):
        log.warning(
            "Database schema at revision %s, which a newer release made: left as it is "
            "(this release's newest is %s)",
            after,
            SCHEMA_REVISIONS[-1],
        )
    elif before == after:
        log.info("Database schema at revision %s: nothing to migrate", after)
    else:
        log.info("Database migrated from revision %s to %s", before or "(empty)", after)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studygroups", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations and serve REST + Socket.IO")
    serve.add_argument("--host", default=None, help="interface (default HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default PORT or 8000)")
    serve.add_argument("--no-migrate", action="store_true", help="skip migrations at start")
    commands.add_parser("migrate", help="upgrade the database at DATABASE_URL to the latest schema")
    token = commands.add_parser("token", help="mint a development JWT for the configured secret")
    token.add_argument("--sub", required=True, help="user id")
    token.add_argument("--name", required=True)
    token.add_argument("--email", required=True)
    token.add_argument("--ttl", default="8h", help="lifetime, e.g. 10s, 15m, 8h, 7d (default 8h)")
    token.add_argument(
        "--new-secret",
        action="store_true",
        help="create DATA_DIR's secret when there is none (then serve with the same DATA_DIR)",
    )
    args = parser.parse_args(argv)
    if args.command == "token" and not args.new_secret:
        missing = _missing_secret(os.environ)
        if missing is not None:
            parser.exit(2, f"studygroups token: {missing}\n")

    try:
        settings = Settings.from_env()
    except ValueError as error:  # ConfigError and every refused setting: one line, no traceback
        parser.exit(2, f"studygroups: {error}\n")
    _configure_logging(settings.log_level)
    if args.command == "token":
        try:
            ttl = parse_ttl(args.ttl)
        except ValueError as error:
            parser.error(str(error))
        # Said on stderr so `$(studygroups token …)` still captures only the token.
        print(f"studygroups token: signed with {_secret_name(settings)}", file=sys.stderr)
        print(mint_token(settings.jwt_secret, args.sub, args.name, args.email, ttl))
        return 0
    if args.command == "migrate":
        return 0 if _migrate(settings) else 1
    return _serve(settings, args.host, args.port, migrate=not args.no_migrate)


def _missing_secret(env: Mapping[str, str]) -> str | None:
    """Why `token` must not sign: no JWT_SECRET and no secret file in the data directory, so it
    would invent a secret no server knows and print a token every server refuses (401)."""
    if env.get("JWT_SECRET"):
        return None
    data_dir = Path(env.get("DATA_DIR") or Path.cwd()).absolute()  # as Settings.from_env
    path = data_dir / SECRET_FILE
    if path.exists() or path.is_symlink():  # a link is refused by the settings, with a reason
        return None
    return (
        f"no secret to sign with: JWT_SECRET is not set and there is no {path}. "
        "A secret made up now would not be the server's, and it would refuse the token (401). "
        "Run `token` in the directory `serve` was started in, or set DATA_DIR to the server's "
        "DATA_DIR, or JWT_SECRET to its secret; --new-secret creates a secret here anyway."
    )


def _secret_name(settings: Settings) -> str:
    if settings.jwt_secret_source == "JWT_SECRET":
        return "JWT_SECRET from the environment"
    return f"the secret in {settings.jwt_secret_source} (no JWT_SECRET set; DATA_DIR decides)"


def server_options(service: Service) -> dict[str, Any]:
    """How uvicorn serves HTTP and WebSockets and shuts down; shared by `serve` and the test
    servers. The HTTP protocol times out slow request heads and caps connections
    (api/connections.py). UVICORN_WS=websockets-sansio (or another uvicorn protocol) turns the
    native Engine.IO WebSocket path off, for comparisons (docs/performance.md)."""
    return {
        "http": service.http,
        "ws": os.environ.get("UVICORN_WS") or service.websocket,
        "ws_per_message_deflate": False,  # deflate costs ~50 KiB per connection; frames are small
        "ws_ping_interval": None,  # Engine.IO has its own heartbeat; a second one costs CPU
        # Long-polling clients keep a request open for up to 25 s; do not wait for them.
        "timeout_graceful_shutdown": 5,
    }


BACKLOG = 4096  # the accept queue while the app loads (the kernel caps it at net.core.somaxconn)


def _listen(host: str, port: int) -> socket.socket:
    """The server's port, bound and listening before the app is even imported: a client that
    connects while the process starts (a restart after a deploy) waits in the backlog and is
    served a second later, instead of being refused and backing off (socket.io-client waits 1 s,
    then 2, up to 5 s between attempts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


@contextlib.contextmanager
def _startup_heap_frozen() -> Iterator[None]:
    """No garbage collection while the server imports and builds its app, then everything made
    so far moved out of the collector's sight (`gc.freeze`): modules, classes, the app, its
    routes and models live as long as the process. Collecting them cost 3 full collections of
    20-100 ms each in a start, and every later full collection walked them again (up to
    ~180 ms, in the middle of a reconnect storm: bench/run storm with gc callbacks timed).
    The REST app, built once the start's sockets have rejoined (api/deferred.py), is built the
    same way; what those sockets made by then is frozen with it (the cyclic collector never
    frees that little, once per process)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _serve(settings: Settings, host: str | None, port: int | None, *, migrate: bool) -> int:
    host, port = host or settings.host, port or settings.port
    try:
        listener = _listen(host, port)
    except OSError as error:  # taken, or not an address of this host: one line, not a trace
        print(f"studygroups: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 1
    with _startup_heap_frozen():
        from studygroups.lazy_imports import defer_client_libraries

        defer_client_libraries()  # before python-socketio: its clients' libraries, never used here
        import uvicorn

        from studygroups.api.connections import raise_open_file_limit
        from studygroups.api.shutdown import PromptServer
        from studygroups.app import build

        if migrate and not _migrate(settings):
            listener.close()
            return 1
        open_files = raise_open_file_limit()  # before build: the connection cap keeps a reserve
        logging.getLogger("studygroups").info("open-file limit: %d", open_files)
        # Sockets first: the REST app (FastAPI) is built once they stop arriving (api/deferred.py).
        service = build(settings, rest_when_calm=True)
        service.rest.around_build = _startup_heap_frozen
        config = uvicorn.Config(
            service.asgi,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            lifespan="on",
            access_log=False,
            backlog=BACKLOG,
            **server_options(service),
        )
        config.load()  # uvicorn's protocols and the app's wrapping, imported now, frozen too
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("studygroups").info(
        "Listening on http://%s:%d (the console at /, the API's docs at /docs)", shown, port
    )
    server = PromptServer(config)
    server.on_shutdown = service.sio.end_library_sockets  # long-polling GETs answered at once
    stop = server.handle_exit

    def draining(sig: int, frame: FrameType | None) -> None:
        # From the signal on, sockets that close are a restart, not their users leaving
        # (namespace.py `on_disconnect`), on every transport.
        service.sio.eio.draining = True
        stop(sig, frame)

    server.handle_exit = draining  # type: ignore[method-assign]  # uvicorn's signal handler
    server.run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
