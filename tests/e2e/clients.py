"""Socket.IO clients for the end-to-end tests: each one is a browser tab that records what it hears.

Every event of the namespace is recorded in arrival order by a synchronous catch-all handler, so
the recorded order is the order the frames arrived in. Waits are bounded: a missing event fails
the test after `WAIT` seconds with what was received instead.

`settle()` answers "has everything the server sent to this socket so far arrived?": it makes a
round trip on the same socket (a `leaveSession` of a session it never joined, which changes
nothing). The server queues frames per socket in order, so when the acknowledgement is back,
every event emitted to this socket before it has been recorded. A REST call returns after its
events were emitted, so `await rest call; await peer.settle()` then "nothing arrived" means the
socket was not sent anything.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import socketio

from tests.conftest import LiveServer, token

NAMESPACE = "/study-groups"
WAIT = 10.0
ERROR_CODES = frozenset(
    {"BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMITED"}
)
DURABLE_EVENTS = frozenset(
    {
        "session.started",
        "session.ended",
        "session.statusChanged",
        "round.advanced",
        "round.results",
        "round.timerChanged",
        "round.timeUp",
        "session.settingsChanged",
        "prompt.updated",
        "vote.submitted",
        "revote.submitted",
        "sharedCard.created",
        "chat.message",
    }
)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NEVER_JOINED = "settle-probe-never-joined"

T = TypeVar("T")


class Peer:
    """One Socket.IO connection to /study-groups, recording every event it receives."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.sio: Any = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.connect_errors: list[Any] = []
        self.disconnects = 0
        self._arrived = asyncio.Event()
        self.sio.on("*", self._record, namespace=NAMESPACE)
        self.sio.on("connect_error", self._refused, namespace=NAMESPACE)
        self.sio.on("disconnect", self._dropped, namespace=NAMESPACE)

    def _record(self, event: str, *args: Any) -> None:
        self.events.append((event, args[0] if args else None))
        self._arrived.set()

    def _refused(self, data: Any = None) -> None:
        self.connect_errors.append(data)
        self._arrived.set()

    def _dropped(self, *_: Any) -> None:
        self.disconnects += 1
        self._arrived.set()

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected) and NAMESPACE in self.sio.namespaces

    async def connect(
        self,
        url: str,
        *,
        auth: dict[str, Any] | None = None,
        transports: Sequence[str] = ("websocket",),
        headers: dict[str, str] | None = None,
    ) -> None:
        await self.sio.connect(
            url,
            auth=auth,
            headers=headers or {},
            transports=list(transports),
            namespaces=[NAMESPACE],
            wait_timeout=WAIT,
        )

    async def disconnect(self) -> None:
        if self.sio.connected or self.sio.eio.state == "connected":
            await self.sio.disconnect()
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()  # left open by a refused engine.io handshake

    async def call(self, event: str, data: Any = None, *, timeout: float = WAIT) -> Any:
        """Emit with an acknowledgement and return what the server acknowledged."""
        return await self.sio.call(event, data, namespace=NAMESPACE, timeout=timeout)

    async def call_marked(self, event: str, data: Any) -> tuple[Any, int]:
        """Like `call`, also saying how many events had been recorded when the ack arrived."""
        done: asyncio.Future[tuple[Any, int]] = asyncio.get_running_loop().create_future()

        def acked(*args: Any) -> None:  # runs in arrival order, like `_record`
            if not done.done():
                done.set_result((args[0] if args else None, len(self.events)))

        await self.sio.emit(event, data, namespace=NAMESPACE, callback=acked)
        async with asyncio.timeout(WAIT):
            return await done

    async def join(self, session_id: str, **extra: Any) -> dict[str, Any]:
        ack: dict[str, Any] = await self.call("joinSession", {"sessionId": session_id, **extra})
        return ack

    async def join_ok(self, session_id: str, **extra: Any) -> dict[str, Any]:
        ack = await self.join(session_id, **extra)
        assert ack.get("success") is True, f"{self.label} could not join: {ack}"
        return ack

    async def settle(self) -> None:
        """Return once everything the server sent this socket before now has been recorded."""
        ack = await self.call("leaveSession", {"sessionId": NEVER_JOINED})
        assert ack.get("success") is True, ack

    async def wait_until(self, check: Callable[[], T | None], what: str) -> T:
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    found = check()
                    if found:
                        return found
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.label} waited {WAIT}s for {what}; it received {self.names()}"
            ) from None

    async def wait_for(self, event: str, count: int = 1) -> list[Any]:
        """The payloads of the first `count` `event`s, waiting for them if needed."""

        def enough() -> list[Any] | None:
            found = self.of(event)
            return found[:count] if len(found) >= count else None

        return await self.wait_until(enough, f"{count} of {event!r}")

    async def wait_for_disconnect(self) -> None:
        await self.wait_until(lambda: self.disconnects > 0, "the server to disconnect it")

    async def wait_for_durable(self, count: int) -> None:
        await self.wait_until(lambda: len(self.durable()) >= count, f"{count} durable events")

    def engine_closed(self) -> bool:
        return bool(self.sio.eio.state != "connected")

    def of(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def durable(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, data) for name, data in self.events if name in DURABLE_EVENTS]

    def seqs(self) -> list[int]:
        return [int(data["seq"]) for _, data in self.durable()]

    def forget(self) -> None:
        self.events.clear()


class Peers:
    """Connects peers to a live server and disconnects every one of them at the end."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.all: list[Peer] = []

    async def connect(
        self,
        user: str,
        *,
        via: str = "auth",
        transports: Sequence[str] = ("websocket",),
        label: str | None = None,
    ) -> Peer:
        """A connected peer for `user`; `via` is "auth", "query" or "bearer"."""
        peer = Peer(label or user)
        self.all.append(peer)
        jwt = token(user)
        if via == "auth":
            await peer.connect(self.live.url, auth={"token": jwt}, transports=transports)
        elif via == "bearer":
            await peer.connect(
                self.live.url, auth={"token": f"Bearer {jwt}"}, transports=transports
            )
        elif via == "query":
            await peer.connect(f"{self.live.url}?token={quote(jwt)}", transports=transports)
        else:
            raise ValueError(via)
        assert peer.connected, f"{peer.label} did not connect"
        return peer

    async def joined(self, user: str, session_id: str, *, label: str | None = None) -> Peer:
        peer = await self.connect(user, label=label)
        await peer.join_ok(session_id)
        return peer

    async def close(self) -> None:
        for peer in self.all:
            if peer.sio.eio.state == "connected" and peer.sio.transport() == "polling":
                # A client-side close over long-polling leaves the server's pending GET open
                # until the ping timeout (python-engineio); closing from the server ends it.
                await self.live.service.sio.eio.disconnect(peer.sio.eio.sid)
                await peer.wait_until(peer.engine_closed, "the connection to close")
            await peer.disconnect()


def is_error(ack: Any, code: str) -> bool:
    return (
        isinstance(ack, dict)
        and ack.get("success") is False
        and isinstance(ack.get("error"), dict)
        and ack["error"].get("code") == code
        and isinstance(ack["error"].get("message"), str)
    )
