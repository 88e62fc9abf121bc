"""The composition root: create_app(settings) builds and wires every part; nothing else does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import socketio

from studygroups.api.connections import (
    ConnectionGuard,
    GuardedHttpProtocol,
    connection_cap,
    share_guard,
)
from studygroups.api.deferred import DeferredHttp
from studygroups.api.lifespan import with_lifespan
from studygroups.api.middleware import BodyTimeout
from studygroups.config import Settings
from studygroups.identity import TokenCache
from studygroups.metrics import Metrics
from studygroups.realtime.admission import Admission
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
from studygroups.services.feed import WARM_CONNECTIONS, EventFeed
from studygroups.services.presence import Presence
from studygroups.services.unit_of_work import Clock, UnitOfWorkFactory, utc_now
from studygroups.services.users import UserDirectory
from studygroups.stopping import stop
from studygroups.storage.database import Database

if TYPE_CHECKING:  # FastAPI is imported with the REST app (api/rest.py), when it is built
    from fastapi import FastAPI

    from studygroups.api.rest import Rest
    from studygroups.api.routes.ops import ReadinessCheck

log = logging.getLogger("studygroups")

PURGE_EVERY_SECONDS = 3600.0
SWEEP_EVERY_SECONDS = 5.0
WARM_SECONDS = 1.0  # the longest a start tries to open connections ahead (`_warm`)


@dataclass
class Service:
    """The built service: the ASGI app to serve, uvicorn's HTTP and WebSocket protocols for
    it (module-level classes that find this app's parts in the lifespan state) and the parts
    tests may look at."""

    asgi: Any
    websocket: type[UpgradeProtocol]
    http: type[GuardedHttpProtocol]
    rest: DeferredHttp[Rest]
    sio: Any
    units: UnitOfWorkFactory
    database: Database
    sequencer: Sequencer
    gateway: Gateway
    phase_clock: PhaseClock
    admission: Admission  # new WebSocket clients arriving at once (realtime/admission.py)

    @property
    def api(self) -> FastAPI:
        """The REST app (FastAPI), built now if it is not yet."""
        return self.rest.build_now().api


def build(settings: Settings, *, clock: Clock = utc_now, rest_when_calm: bool = False) -> Service:
    """Every part, wired. The REST app is built here too, unless `rest_when_calm`: then once
    sockets stop arriving after the start (`studygroups serve`: api/deferred.py)."""
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
    readiness: dict[str, ReadinessCheck] = {"database": database.readiness}
    redis_presence: RedisPresence | None = None
    if settings.redis_url:
        redis_presence = RedisPresence(
            settings.redis_url, settings.presence_ttl_seconds, prefix=settings.redis_prefix
        )
        presence = redis_presence
        readiness["redis"] = redis_presence.readiness
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
        admission=native.engine.admission,
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

    if settings.dev_sign_in:  # otherwise /dev/token does not exist: 404 (API.md section 8)
        log.warning("development sign-in is on: POST /dev/token mints a token for anyone")
    rest: DeferredHttp[Rest] = DeferredHttp(
        partial(
            _build_rest,
            settings,
            with_document=rest_when_calm,
            units=units,
            users=users,
            presence=presence,
            tokens=tokens,
            metrics=metrics,
            readiness=readiness,
        ),
        settling=gateway.settling,
    )
    if not rest_when_calm:
        rest.build_now()

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        background: list[asyncio.Task[Any]] = [
            asyncio.create_task(_purge_keys_forever(units)),
            asyncio.create_task(phase_clock.run()),  # fires what came due while we were down
        ]
        warming = min(WARM_CONNECTIONS, settings.db_pool_size // 2)  # the rest stay free
        # One before the first socket: on the engine's first connection SQLAlchemy learns the
        # server (ten round trips), and every connection opened meanwhile waits for it (the two
        # tasks above open theirs meanwhile too); under a storm each round trip would wait for
        # a busy loop turn. The others while the first sockets arrive, not before them: a start
        # that waited for all would be later.
        if not database.is_sqlite and warming > 0 and await _warm(feed, 1):
            background.append(asyncio.create_task(_warm(feed, warming)))
        if rest_when_calm:
            background.append(asyncio.create_task(rest.build_when_calm()))
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
                await stop(task)
            listener = getattr(manager, "thread", None)  # python-socketio's, on Redis
            if isinstance(listener, asyncio.Task):
                await stop(listener)
            # A shutdown is a restart: presence entries expire with this process's heartbeat
            # (users back within PRESENCE_TTL_SECONDS never seem to have left).
            await presence.close(withdraw=False)
            await users.close()
            await database.dispose()

    asgi = BodyTimeout(
        bounds.middleware(warn_if_not_native(socketio_endpoints(sio, rest), metrics)),
        settings.http_body_timeout_seconds,
        metrics,
    )
    guard = ConnectionGuard(
        connection_cap(settings.max_connections), settings.http_header_timeout_seconds, metrics
    )
    # uvicorn's protocols (studygroups serve, or `uvicorn --ws/--http studygroups.asgi:…`)
    # find the native WebSocket path and the connection guard in the lifespan state.
    served = share_guard(share_with_protocols(with_lifespan(asgi, lifespan), native), guard)
    return Service(
        asgi=served,
        websocket=UpgradeProtocol,
        http=GuardedHttpProtocol,
        rest=rest,
        sio=sio,
        units=units,
        database=database,
        sequencer=sequencer,
        gateway=gateway,
        phase_clock=phase_clock,
        admission=native.engine.admission,
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


def _build_rest(settings: Settings, *, with_document: bool, **parts: Any) -> Rest:
    from studygroups.api.rest import build_rest  # FastAPI and pydantic: imported only now

    rest = build_rest(settings, **parts)
    if with_document:
        # The OpenAPI document (~0.1 s of CPU) made on the build's thread too, not by the
        # first /openapi.json or /docs on the event loop, in front of every socket.
        rest.api.openapi()
    return rest


async def _warm(feed: EventFeed, connections: int) -> bool:
    """At the start: pooled connections opened with the joins' reads prepared; whether they
    were. A database that does not answer within WARM_SECONDS is the outage path's (/readyz,
    joins refused until it is back)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(WARM_SECONDS):
            await feed.warm(connections)
    except Exception as error:  # noqa: BLE001 -- whatever it is, the service goes on
        while isinstance(error, ExceptionGroup):  # the warm-up's TaskGroup: say the first cause
            error = error.exceptions[0]
        log.warning("could not open database connections ahead at start: %r", error)
        return False
    took = (time.perf_counter() - started) * 1000
    plural = "" if connections == 1 else "s"
    log.info("opened %d database connection%s ahead in %.0f ms", connections, plural, took)
    return True


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
