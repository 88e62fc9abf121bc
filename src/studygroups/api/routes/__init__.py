"""One router per resource, and how the app takes their routes in."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI


def mount_routes(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """The routers' routes, added to the app as they are.

    `include_router` would add each router as a wrapper whose routes FastAPI builds a second
    time, with the include's prefix, tags and dependencies, when the first request is matched:
    every route's parameters and response models again (~12 % of a restarted process's CPU
    while its clients reconnect, `bench/run storm` profiled with py-spy). Our routers carry
    their prefix, tags and responses themselves and are included with none, so the routes
    built at import are already the app's; they are added here once, in order."""
    for router in routers:
        assert not router.dependencies, "include_router would apply them; mount_routes does not"
        app.router.routes.extend(router.routes)
    app.router._mark_routes_changed()  # FastAPI's cache of its routes, as include_router does
