"""The REST app: FastAPI with the routes, the error mapping, CORS and the HTTP middleware.

Built by the composition root (app.py) from parts it already made, at once or once the
process has time for it (api/deferred.py): importing this module is most of FastAPI's and
pydantic's share of a start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig

from studygroups import __version__
from studygroups.api import docs, errors, openapi
from studygroups.api.deps import ApiState
from studygroups.api.hot_path import HotChatPost
from studygroups.api.middleware import BodyLimit, Timing
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
from studygroups.services.groups import PlaylistLimit
from studygroups.services.presence import Presence
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.services.users import UserDirectory

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


@dataclass(frozen=True)
class Rest:
    api: FastAPI  # the FastAPI app, for tests and the OpenAPI document
    asgi: Any  # what serves HTTP: `api` inside the body limit and the latency metrics


def build_rest(
    settings: Settings,
    *,
    units: UnitOfWorkFactory,
    users: UserDirectory,
    presence: Presence,
    tokens: TokenCache,
    metrics: Metrics,
    readiness: dict[str, ReadinessCheck],
) -> Rest:
    api = FastAPI(
        # FastAPI asks OpenTelemetry on every request whether a provider is set up (~5 % of a
        # chat POST's CPU samples): asked only where the environment says it is in use.
        telemetry=None if settings.opentelemetry else NO_TELEMETRY,
        title="studygroups",
        version=__version__,
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
        routers.append(dev.router)  # said at the start, as a WARNING (app.py)
    mount_routes(api, routers)
    api.add_middleware(HotChatPost)  # added before CORS: inside it (api/hot_path.py)
    api.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.frontend_urls),
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    return Rest(api=api, asgi=BodyLimit(Timing(api, metrics), settings.max_body_bytes))
