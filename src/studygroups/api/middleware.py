"""Pure ASGI middleware: the request body size limit (413) and time limit (408), and HTTP
latency metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studygroups.api.bodies import error_body, send_json
from studygroups.metrics import Metrics

log = logging.getLogger("studygroups.api")


class BodyLimit:
    """Refuse bodies over `max_bytes` with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/socket.io"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _Refused
            return message

        await _serve_or_refuse(self.app, scope, limited_receive, send, self._refuse)

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 413, f"request body exceeds {self.max_bytes} bytes")


async def _answer(send: Send, status: int, message: str, *, close: bool = False) -> None:
    headers = [(b"connection", b"close")] if close else []
    await send_json(send, status, error_body(status, message), headers=headers)


class _Refused(Exception):
    """A body check failed while the app read the body."""


async def _serve_or_refuse(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    refuse: Callable[[Send], Awaitable[None]],
) -> None:
    """Run `app`; once `receive` raises _Refused the answer is `refuse`'s, whatever the app makes
    of a body it could not read (FastAPI turns a read error into 400, Starlette's error
    middleware into 500)."""
    refused = False
    started = False

    async def guarded_receive() -> Message:
        nonlocal refused
        try:
            return await receive()
        except _Refused:
            refused = True
            raise

    async def guarded_send(message: Message) -> None:
        nonlocal started
        if refused:
            if not started:
                started = True
                await refuse(send)
            return
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, guarded_receive, guarded_send)
    except _Refused:
        if not started:
            await refuse(send)


class BodyTimeout:
    """Answer 408 (and close the connection) when a request's body has not fully arrived
    `seconds` after its head; REST and Engine.IO long-polling alike. Slow heads are the HTTP
    protocol's to time out (connections.py).

    Most bodies arrive with their head, so no request gets a timer of its own (one
    `asyncio.timeout` per request was ~8 % of a chat POST's CPU): a request waiting in
    `receive` is noted with its deadline, and one sweep every `seconds / 4` (at most 0.5 s)
    cancels the waits that are overdue, which then answer 408."""

    def __init__(self, app: ASGIApp, seconds: float, metrics: Metrics) -> None:
        self.app = app
        self.seconds = seconds
        self.metrics = metrics
        self._sweep_every = min(seconds / 4, 0.5)
        self._waiting: dict[asyncio.Task[Any], float] = {}  # a task waiting for a body: deadline
        self._overdue: set[asyncio.Task[Any]] = set()  # cancelled by the sweep
        self._sweep: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()  # after the body: only the disconnect, whenever it comes
            if loop.time() >= deadline:
                raise _Refused
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()  # cancellations asked before this wait
            self._waiting[task] = deadline
            if self._sweep is None:
                self._sweep = loop.call_later(self._sweep_every, self._sweep_overdue, loop)
            try:
                message = await receive()
            except asyncio.CancelledError:
                if task not in self._overdue:
                    raise
                self._overdue.discard(task)
                if task.uncancel() > cancelling:
                    raise  # cancelled by someone else too: that cancellation goes on
                raise _Refused from None
            finally:
                self._waiting.pop(task, None)
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await _serve_or_refuse(self.app, scope, timed_receive, send, self._refuse)

    def _sweep_overdue(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for task, deadline in list(self._waiting.items()):
            if deadline <= now:
                del self._waiting[task]
                self._overdue.add(task)
                task.cancel()
        self._sweep = (
            loop.call_later(self._sweep_every, self._sweep_overdue, loop) if self._waiting else None
        )

    async def _refuse(self, send: Send) -> None:
        self.metrics.http_timeouts.labels("body").inc()
        log.info("request body not received within %s s: 408", self.seconds)
        await _answer(send, 408, f"request body not received within {self.seconds:g} s", close=True)


class Timing:
    """Observe each HTTP request's latency by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # (method, route template, status) -> its histogram: `labels` takes a lock and
        # checks its arguments on every call.
        self._observers: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/socket.io"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route: Any = scope.get("route")
            key = (scope["method"], getattr(route, "path", "unmatched"), str(status))
            observer = self._observers.get(key)
            if observer is None:
                observer = self._observers[key] = self.metrics.http_latency.labels(*key)
            observer.observe(time.perf_counter() - started)
