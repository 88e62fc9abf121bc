"""uvicorn's server with a prompt shutdown: a restarting process's port is closed from the
first moment of its shutdown, and every client that knocks meanwhile is refused and backs off
(socket.io-client: 1 s, then 2 s …), so every millisecond of it counts in a reconnect storm.

uvicorn (0.54) notices a signal at its next tick (every 0.1 s), asks each connection to
close, then sleeps a fixed 0.1 s, then checks every 0.1 s whether connections and tasks are
gone. Here the signal wakes the server at once, and the same steps wait only as long as the
connections and tasks do, checked every few milliseconds, within the same graceful timeout
(SIGTERM to exit with 500 WebSockets on PostgreSQL + Redis, `bench/exit_time.py`:
143-216 ms → 44-49 ms; docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Awaitable, Callable
from types import FrameType

import uvicorn

log = logging.getLogger("uvicorn.error")

POLL_SECONDS = 0.005  # how often the shutdown looks whether connections and tasks are gone
TICK_SECONDS = 0.1  # uvicorn's tick: the Date header, its housekeeping


class PromptServer(uvicorn.Server):
    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    # Run once the port is closed and the connections told, before waiting for them: what the
    # app must end itself (long-polling requests uvicorn cannot end: realtime/server.py).
    on_shutdown: Callable[[], Awaitable[None]] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)  # the handler runs outside the loop

    async def main_loop(self) -> None:
        """uvicorn's ticks, woken early by a signal."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("Shutting down")
        for server in self.servers:  # no new connections
            server.close()
        for listener in sockets or []:
            listener.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()
        if self.on_shutdown is not None:
            try:
                await self.on_shutdown()
            except Exception:
                log.exception("ending the app's connections at shutdown failed")
        loop = asyncio.get_running_loop()
        timeout = self.config.timeout_graceful_shutdown
        deadline = loop.time() + (math.inf if timeout is None else timeout)
        while (state.connections or state.tasks) and not self.force_exit:
            if loop.time() >= deadline:
                # Routine on a deploy while long-polling clients wait for their next packet.
                log.warning(
                    "graceful shutdown: %d request(s) or task(s) still open after %s s, cancelled",
                    len(state.tasks),
                    timeout,
                )
                for task in state.tasks:
                    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
                break
            await asyncio.sleep(POLL_SECONDS)
        if not self.force_exit:
            await self.lifespan.shutdown()
