"""uvicorn's HTTP protocol with two bounds on connections: slow request headers are timed out,
and open connections are capped with a reserve of file descriptors, so that a new request (a
health check) still gets in when the cap is reached (docs/security.md, "Connections and
resources").

* Headers. A connection must send a request's whole head within `header_timeout` seconds of
  opening (or, on a kept-alive connection, of the request's first byte); otherwise it is
  closed, with a 408 if the request had begun. uvicorn times out idle kept-alive connections
  itself (`timeout_keep_alive`), but not one that never sends, nor one sending a byte at a time.
* The cap. At start the process's soft limit of open files is raised to its hard limit; at most
  `max_connections` connections (HTTP and WebSocket) are kept, and never more than that limit
  minus FD_RESERVE, the descriptors the database, Redis and logs need. A connection over the cap
  evicts the oldest connection that has no request in flight (one still waiting for its first
  request's head, or idle between requests); if every connection has one in flight, the
  newcomer is closed instead.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from studygroups.compat import HttpToolsProtocol
from studygroups.metrics import Metrics

log = logging.getLogger("studygroups.api")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GUARD_KEY = "studygroups.connection_guard"  # in the lifespan state (uvicorn's `app_state`)
FD_RESERVE = 128  # descriptors kept for the database pool, Redis, files and logs
SHED_LOG_EVERY_SECONDS = 60.0
REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def raise_open_file_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the soft limit after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            log.warning(
                "could not raise the open-file limit from %d to %d: %s", soft, target, error
            )
    return soft


def connection_cap(max_connections: int) -> int:
    """`max_connections`, lowered if needed to keep FD_RESERVE descriptors free."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - FD_RESERVE))


class ConnectionGuard:
    """The server's connections with no request in flight, oldest first, and the limits."""

    def __init__(self, max_connections: int, header_timeout: float, metrics: Metrics) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.metrics = metrics
        # insertion order is age: a connection re-enters at the end when it becomes idle again
        self.idle: dict[GuardedHttpProtocol, None] = {}
        self._last_shed_log = float("-inf")

    def admit(self, newcomer: GuardedHttpProtocol, open_connections: int) -> None:
        """Called for each new connection: over the cap, close the oldest idle one (or this)."""
        if open_connections <= self.max_connections:
            return
        oldest = next(iter(self.idle), newcomer)
        self.idle.pop(oldest, None)
        action = "refused" if oldest is newcomer else "evicted"
        self.metrics.connections_shed.labels(action).inc()
        now = time.monotonic()
        if now - self._last_shed_log >= SHED_LOG_EVERY_SECONDS:
            self._last_shed_log = now
            log.warning(
                "%d connections, over MAX_CONNECTIONS=%d: closing idle ones (logged once a minute)",
                open_connections,
                self.max_connections,
            )
        oldest.transport.close()


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, timing out slow heads and registering idle connections.

    One module-level class, so uvicorn can load it from an import string (`--http
    studygroups.asgi:Http`): it finds its app's `ConnectionGuard` in the lifespan state uvicorn
    hands every protocol (`app_state`), where the app puts it at startup (`share_guard`).
    Without one (no lifespan) it is uvicorn's protocol, unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard: ConnectionGuard | None = self.app_state.get(GUARD_KEY)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.guard is None:
            return
        self.guard.idle[self] = None
        self._arm_head_timer()
        self.guard.admit(self, len(self.connections))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        if self._head_timer is None and self.guard is not None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._head_begun = False
        if self.guard is not None:
            self.guard.idle.pop(self, None)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.guard is not None and self.timeout_keep_alive_task is not None:
            self.guard.idle[self] = None  # idle until the next request

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        if self.guard is not None:
            self.guard.idle.pop(self, None)
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        assert self.guard is not None
        self._head_timer = self.loop.call_later(self.guard.header_timeout, self._head_late)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.guard is None:
            return
        self.guard.metrics.http_timeouts.labels("headers").inc()
        log.debug("closing %s: no request head within %s s", self.client, self.guard.header_timeout)
        self.guard.idle.pop(self, None)
        if self._head_begun:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()


def share_guard(app: ASGIApp, guard: ConnectionGuard) -> ASGIApp:
    """ASGI middleware: put `guard` in the lifespan state at startup, where uvicorn hands it to
    every protocol it creates (`app_state`)."""

    async def shared(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and isinstance(scope.get("state"), dict):
            scope["state"][GUARD_KEY] = guard
        await app(scope, receive, send)

    return shared
