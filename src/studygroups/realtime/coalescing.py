"""One write per WebSocket connection per event-loop turn, instead of one per frame.

Profiles of a busy room showed most of the server's time in the send syscall that uvicorn makes
for every WebSocket frame. When a socket's Engine.IO writer finds several packets queued, it
sends them one after the other in the same loop turn; this transport wrapper collects those
frames and hands them to the real transport as one write at the end of the turn. Bytes and
their order are unchanged; only the number of syscalls drops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class CoalescingTransport:
    """Delegates to `transport`, except that writes within one loop turn become one write."""

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingWebSockets:
    """ASGI middleware: wrap the transport of each WebSocket connection served by uvicorn."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            protocol: Any = getattr(send, "__self__", None)
            transport = getattr(protocol, "transport", None)
            if transport is not None and not isinstance(transport, CoalescingTransport):
                protocol.transport = CoalescingTransport(transport, asyncio.get_running_loop())
        await self.app(scope, receive, send)
