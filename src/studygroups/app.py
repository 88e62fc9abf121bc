"""The composition root: create_app(settings) builds and wires every part; nothing else does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import socketio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig

from studygroups import __version__
from studygroups.api import docs, errors, openapi
from studygroups.api.connections import (
    ConnectionGuard,
    GuardedHttpProtocol,
    connection_cap,
    share_guard,
)
from studygroups.api.deps import ApiState
from studygroups.api.hot_path import HotChatPost
from studygroups.api.middleware import BodyLimit, BodyTimeout, Timing
from studygroups.api.routes import (
    chat,
    console,
    dev,
    groups,
    mount_routes,
    ops,
    results,
    sessions,
    timers,
)
from studygroups.api.routes.ops import ReadinessCheck
from studygroups.config import Settings
from studygroups.identity import TokenCache
from studygroups.metrics import Metrics
from studygroups.ratelimit import Limit, RateLimiter
from studygroups.realtime.bounds import SocketBounds
from studygroups.realtime.codecs import CODECS
from studygroups.realtime.inbound import InboundGate
from studygroups.realtime.managers import ClusterManager, LocalManager
from studygroups.realtime.namespace import Gateway
from studygroups.realtime.presence import LocalPresence
from studygroups.realtime.protocol import (
    UpgradeProtocol,
    native_transport,
    share_with_protocols,
    warn_if_not_native,
)
from studygroups.realtime.publisher import DURABLE, NAMESPACE, RoomPublisher, Sequencer
from studygroups.realtime.redis_presence import RedisPresence
from studygroups.realtime.server import build_server, local_emit
from studygroups.services.clock import PhaseClock
from studygroups.services.commands import purge_expired_keys
from studygroups.services.feed import EventFeed
from studygroups.services.groups import PlaylistLimit
from studygroups.services.presence import Presence
from studygroups.services.unit_of_work import Clock, UnitOfWorkFactory, utc_now
from studygroups.services.users import UserDirectory
from studygroups.storage.database import Database

log = logging.getLogger("studygroups")
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

PURGE_EVERY_SECONDS = 3600.0
SWEEP_EVERY_SECONDS = 5.0


@dataclass
class Service:
    """The built service: the ASGI app to serve, uvicorn's HTTP and WebSocket protocols for
    it (module-level classes that find this app's parts in the lifespan state) and the parts
    tests may look at."""

    asgi: Any
    websocket: type[UpgradeProtocol]
    http: type[GuardedHttpProtocol]
    api: FastAPI
    sio: Any
    units: UnitOfWorkFactory
    database: Database
    sequencer: Sequencer
    gateway: Gateway
    phase_clock: PhaseClock


def build(settings: Settings, *, clock: Clock = utc_now) -> Service:
    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    metrics = Metrics()
    manager: LocalManager | ClusterManager = (
        ClusterManager(settings.redis_url, channel=f"{settings.redis_prefix}:events")
        if settings.redis_url
        else LocalManager()
    )
    sio = build_server(
        manager, list(settings.frontend_urls), InboundGate.from_settings(settings, metrics)
    )
    bounds = SocketBounds(
        sio, settings.socket_max_buffered_bytes, settings.auth_timeout_seconds, metrics
    )
    bounds.install()

    native = native_transport(sio, bounds, metrics)

    async def relay(event: str, data: Any, room: str) -> None:
        await sio.emit(event, data, room=room, namespace=NAMESPACE)
        # The members' frames leave now, not at the end of the loop turn: a durable change
        # reaches the room before its writer's answer is even built.
        native.engine.flush()

    units = UnitOfWorkFactory(database, RoomPublisher(relay), clock)
    feed = EventFeed(units)
    sequencer = Sequencer(feed, metrics)
    sequencer.local_emit = partial(local_emit, sio)
    users = UserDirectory(units, on_not_recorded=metrics.users_not_recorded.inc)
    tokens = TokenCache()  # verified JWTs, shared by REST and Socket.IO
    presence: Presence = LocalPresence()
    readiness: dict[str, ReadinessCheck] = {"database": database.ping}
    redis_presence: RedisPresence | None = None
    if settings.redis_url:
        redis_presence = RedisPresence(
            settings.redis_url, settings.presence_ttl_seconds, prefix=settings.redis_prefix
        )
        presence = redis_presence
        readiness["redis"] = redis_presence.ping
    gateway = Gateway(
        jwt_secret=settings.jwt_secret,
        units=units,
        feed=feed,
        users=users,
        presence=presence,
        sequencer=sequencer,
        metrics=metrics,
        replay_limit=settings.replay_limit,
        replay_max_bytes=settings.replay_max_bytes,
        max_sockets_per_user=settings.max_sockets_per_user,
        tokens=tokens,
    )
    sio.register_namespace(gateway)
    phase_clock = PhaseClock(units, on_pass=lambda done: metrics.observe_time_ups(done.lags))

    async def on_internal(event: str, data: Any) -> None:
        await gateway.on_internal(event, data)
        if event == DURABLE:  # this process's commits and its peers': re-arm on a new deadline
            for item in data["events"]:
                phase_clock.notice(str(item[1]), dict(item[2]))

    manager.on_internal = on_internal
    if isinstance(manager, ClusterManager):
        manager.on_subscribed = sequencer.catch_up_all
        manager.on_publish_failure = metrics.redis_publish_failures.inc
    if redis_presence is not None:
        redis_presence.on_expired = gateway.announce_left

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        background = [
            asyncio.create_task(_purge_keys_forever(units)),
            asyncio.create_task(phase_clock.run()),  # fires what came due while we were down
        ]
        if redis_presence is not None:
            redis_presence.start()
        if isinstance(manager, ClusterManager):
            background.append(asyncio.create_task(_sweep_forever(sequencer)))
            if not sio.manager_initialized:
                # python-socketio listens to Redis from the first connection on; the phase
                # clock must hear its peers' deadlines before any socket arrives.
                sio.manager_initialized = True
                manager.initialize()
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # A shutdown is a restart: presence entries expire with this process's heartbeat
            # (users back within PRESENCE_TTL_SECONDS never seem to have left).
            await presence.close(withdraw=False)
            await users.close()
            await database.dispose()

    api = FastAPI(
        # FastAPI asks OpenTelemetry on every request whether a provider is set up (~5 % of a
        # chat POST's CPU samples): asked only where the environment says it is in use.
        telemetry=None if settings.opentelemetry else NO_TELEMETRY,
        title="studygroups",
        version=__version__,
        lifespan=lifespan,
        description="Real-time peer-instruction study-group sessions. "
        "Socket.IO namespace /study-groups at /socket.io/ (JSON) and /socket.io-msgpack/ "
        "(socket.io-msgpack-parser).",
        docs_url=None,  # docs.install serves /docs from the package, not from a CDN
        redoc_url=None,
    )
    docs.install(api)
    openapi.install(api)
    api.state.api = ApiState(
        units=units,
        users=users,
        jwt_secret=settings.jwt_secret,
        write_limiter=RateLimiter(
            Limit(rate=settings.rest_writes_per_second, burst=settings.rest_write_burst)
        ),
        presence=presence,
        tokens=tokens,
        read_limiter=RateLimiter(
            Limit(rate=settings.rest_reads_per_second, burst=settings.rest_read_burst)
        ),
        on_read_limited=metrics.reads_limited.inc,
        playlist=PlaylistLimit(settings.max_group_contents, metrics.playlist_full.inc),
        dev_token_ttl_seconds=settings.dev_token_ttl_seconds,
    )
    api.state.metrics = metrics
    api.state.readiness = readiness
    api.state.dev_sign_in = settings.dev_sign_in  # the console asks for it (/console/config.json)
    errors.install(api)
    routers = [
        groups.router,
        sessions.router,
        results.router,
        chat.router,
        ops.router,
        console.router,
        timers.router,
    ]
    if settings.dev_sign_in:  # otherwise /dev/token does not exist: 404 (API.md section 8)
        routers.append(dev.router)
        log.warning("development sign-in is on: POST /dev/token mints a token for anyone")
    mount_routes(api, routers)
    api.add_middleware(HotChatPost)  # added before CORS: inside it (api/hot_path.py)
    api.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.frontend_urls),
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    http_app = BodyLimit(Timing(api, metrics), settings.max_body_bytes)
    asgi = BodyTimeout(
        bounds.middleware(warn_if_not_native(socketio_endpoints(sio, http_app), metrics)),
        settings.http_body_timeout_seconds,
        metrics,
    )
    guard = ConnectionGuard(
        connection_cap(settings.max_connections), settings.http_header_timeout_seconds, metrics
    )
    # uvicorn's protocols (studygroups serve, or `uvicorn --ws/--http studygroups.asgi:…`)
    # find the native WebSocket path and the connection guard in the lifespan state.
    served = share_guard(share_with_protocols(asgi, native), guard)
    return Service(
        asgi=served,
        websocket=UpgradeProtocol,
        http=GuardedHttpProtocol,
        api=api,
        sio=sio,
        units=units,
        database=database,
        sequencer=sequencer,
        gateway=gateway,
        phase_clock=phase_clock,
    )


def socketio_endpoints(sio: Any, http_app: Any) -> Any:
    """Both Socket.IO endpoints, one per codec (/socket.io/ JSON, /socket.io-msgpack/ msgpack:
    realtime/codecs.py), in front of the HTTP app. Both route to the same Engine.IO server, so
    one set of sessions and rooms; each session's codec follows the path of its handshake."""
    app = http_app
    for codec in reversed(CODECS):
        app = socketio.ASGIApp(sio, other_asgi_app=app, socketio_path=codec.path.strip("/"))
    return app


def create_app(settings: Settings | None = None) -> Any:
    """The ASGI app: REST (FastAPI) and Socket.IO on one port; settings from the environment
    unless given. Serve it with studygroups' protocols (studygroups/asgi.py)."""
    return build(settings if settings is not None else Settings.from_env()).asgi


async def _purge_keys_forever(units: UnitOfWorkFactory) -> None:
    while True:
        try:
            removed = await purge_expired_keys(units)
            if removed:
                log.info("Purged %d expired idempotency keys", removed)
        except Exception:
            log.warning("could not purge idempotency keys; will retry", exc_info=True)
        await asyncio.sleep(PURGE_EVERY_SECONDS)


async def _sweep_forever(sequencer: Sequencer) -> None:
    """Across processes a lost Redis message is caught by the next event of its session; this
    sweep bounds the wait when no next event comes: rooms are filled from the log every 5 s."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
        try:
            await sequencer.catch_up_all()
        except Exception:
            log.warning("could not sweep rooms against the event log; will retry", exc_info=True)
