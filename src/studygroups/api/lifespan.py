"""The service's ASGI lifespan, answered in front of every app it serves.

The lifespan (background tasks, presence, the pools: app.py) belongs to the service, not to
its REST app: FastAPI may not be built yet when the server starts (api/deferred.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from starlette.types import ASGIApp, Receive, Scope, Send


def with_lifespan(
    app: ASGIApp, lifespan: Callable[[], AbstractAsyncContextManager[None]]
) -> ASGIApp:
    """ASGI middleware: run `lifespan` between the server's startup and shutdown messages;
    every other scope goes to `app`."""

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        await receive()  # lifespan.startup
        started = False
        try:
            async with lifespan():
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as error:
            failed = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failed, "message": repr(error)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    return served
