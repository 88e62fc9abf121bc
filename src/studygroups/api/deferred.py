"""The REST app, built once the process has time for it: at a restart, sockets come first.

A restarted process has its clients' connections waiting in the accept queue (cli.py binds the
port before anything is imported). What they need to rejoin is the Socket.IO path: the
realtime layer with its services and storage. The REST app (FastAPI, pydantic and the route
models, about a third of the start's CPU: docs/performance.md) is not, so `studygroups serve`
starts serving without it and builds it once sockets stop arriving (`settling` false, first
looked at 0.2 s after the start, then every 20 ms) or `latest` seconds after the start,
whichever comes first.

Until then an HTTP request waits for the REST app (it is not refused) and `GET /healthz` is
answered at once, as it would be after: the process is up, and a liveness probe must not time
out while the process gives its time to reconnecting sockets. The REST app building raises
(a bug: every test builds it): logged, and every HTTP request answers 500.

`build_now` builds it in place (tests, `uvicorn studygroups.asgi:app`, and `Service.api`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, Protocol, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from studygroups.api.bodies import HEALTHY, error_body, send_json

log = logging.getLogger("studygroups")

FIRST_LOOK_SECONDS = 0.2
CHECK_EVERY_SECONDS = 0.02
LATEST_SECONDS = 5.0


class Built(Protocol):
    @property
    def asgi(self) -> ASGIApp: ...


B = TypeVar("B", bound=Built)


class DeferredHttp(Generic[B]):
    """An ASGI app standing in for `factory()`'s `asgi` until it is built."""

    def __init__(
        self,
        factory: Callable[[], B],
        *,
        settling: Callable[[], bool],
        latest: float = LATEST_SECONDS,
        around_build: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self._factory = factory
        self._settling = settling
        self._latest = latest
        self.around_build = around_build  # `serve` freezes what the build makes (cli.py)
        self._built: B | None = None
        self._failed = False
        self._ready = asyncio.Event()

    @property
    def built(self) -> B | None:
        return self._built

    def build_now(self) -> B:
        """The REST app, built now (on the caller's thread) if it is not yet."""
        if self._built is None:
            try:
                built = self._make()
            except Exception:
                self._fail()
                raise
            self._done(built)
        assert self._built is not None, "a failed build raised"
        return self._built

    async def build_when_calm(self) -> None:
        """Build once `settling()` is false, or `latest` seconds from now at the latest, on a
        worker thread: sockets that arrive meanwhile are still served (the loop gets the GIL
        back every few milliseconds) instead of waiting out the whole build."""
        started = time.monotonic()
        deadline = started + self._latest
        # The lifespan starts this before the server accepts anything: the first look comes
        # after the sockets waiting in the accept queue have had time to show up.
        await asyncio.sleep(FIRST_LOOK_SECONDS)
        while self._built is None and self._settling() and time.monotonic() < deadline:
            await asyncio.sleep(CHECK_EVERY_SECONDS)
        if self._built is None and not self._failed:
            waited = time.monotonic() - started
            why = "at the time limit" if waited >= self._latest else "sockets settled"
            try:
                built = await asyncio.to_thread(
                    self._make, f"{why}, {waited:.1f} s after the start"
                )
            except Exception:  # noqa: BLE001  # logged by _fail; every HTTP request answers 500
                self._fail()
                return
            self._done(built)

    def _make(self, when: str = "at once") -> B:
        started = time.perf_counter()
        with self.around_build():
            built = self._factory()
        took = (time.perf_counter() - started) * 1000
        log.info("REST API built in %.0f ms (%s)", took, when)
        return built

    def _fail(self) -> None:
        self._failed = True
        self._ready.set()
        log.exception("the REST API could not be built: HTTP requests answer 500")

    def _done(self, built: B) -> None:
        if self._built is None:
            self._built = built
        self._ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        built = self._built
        if built is None:
            if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/healthz":
                await send_json(send, 200, HEALTHY)
                return
            await self._ready.wait()
            built = self._built
        if built is None:
            await self._refuse(scope, send)
            return
        await built.asgi(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        if scope["type"] == "http":
            await send_json(send, 500, error_body(500, "Internal Server Error"))
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1011})
