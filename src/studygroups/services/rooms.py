"""Session rooms of live sockets: join (authorization, catch-up, replay, presence), leave, typing.

The Socket.IO namespace (realtime/namespace.py) parses a client event, calls one of these use
cases and turns the typed result into its ack, as the REST routes do with theirs. What a use case
needs from the transport it asks through the small protocols declared here, which realtime/
implements: services never import realtime/.

The join's ordering guarantee (docs/architecture.md, "The event pipeline"): the session's lane
lock is held from the authorization check until the result is returned, and nothing awaits
between the lock's release and the caller queuing the ack, so no live event after `head` can
reach the socket before its ack; an eviction waits on the same lane (`Lanes.settled`).
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from studygroups.domain.errors import Forbidden, RateLimited, Unauthenticated
from studygroups.identity import Identity
from studygroups.metrics import Metrics
from studygroups.ratelimit import LIMITS, RateLimiter
from studygroups.services.feed import EventFeed, Replay
from studygroups.services.presence import Presence

log = logging.getLogger("studygroups.realtime")

L = TypeVar("L")


class Lanes(Protocol[L]):
    """Per-session delivery lanes of this process (realtime/publisher.py `Sequencer`)."""

    def locked(self, session_id: str) -> AbstractAsyncContextManager[L]:
        """The session's lane, locked: live delivery to the room waits while it is held."""

    async def catch_up(self, session_id: str, lane: L, head: int | None = None) -> int:
        """Under the lock: bring the room up to `head`; the head."""

    async def settled(self, session_id: str) -> None:
        """Wait until whoever holds the session's lane now is done."""

    def joined(self, session_id: str) -> None:
        """A local socket entered the session's room."""

    def left(self, session_id: str) -> None:
        """A local socket left the session's room."""

    @property
    def rooms(self) -> int:
        """Sessions with a lane in this process."""


class Attendee(Protocol):
    """One connected socket as the rooms see it (realtime/registry.py `Client`)."""

    @property
    def sid(self) -> str: ...

    @property
    def identity(self) -> Identity: ...

    @property
    def sessions(self) -> set[str]:
        """The sessions whose rooms the socket is in (kept by these use cases)."""


class Signals(Protocol):
    """Ephemeral events to a session's room, not logged (realtime/namespace.py `Gateway`)."""

    async def signal(self, event: str, session_id: str, user_id: str, data: dict[str, Any]) -> None:
        """Send `event` to everyone in the room but the acting user's own sockets."""


class Rooms(Signals, Protocol):
    """The transport's rooms: which sockets are still connected, and room membership."""

    def is_connected(self, sid: str) -> bool: ...

    async def enter_session_room(self, sid: str, session_id: str) -> None: ...

    async def leave_session_room(self, sid: str, session_id: str) -> None: ...


@dataclass(frozen=True)
class Joined:
    """A join's answer: the log's `head` the socket is now live from, what it missed since its
    `lastSeq` (None when it sent none; `replay.resync` set when it must read the feed instead),
    and everyone present."""

    session_id: str
    head: int
    replay: Replay | None
    presence: list[dict[str, str]]


@dataclass(frozen=True)
class ReplayBudget:
    max_events: int
    max_bytes: int


class SessionRooms:
    """The join, leave and typing use cases of live sockets."""

    def __init__(
        self,
        *,
        feed: EventFeed,
        presence: Presence,
        lanes: Lanes[Any],
        rooms: Rooms,
        metrics: Metrics,
        budget: ReplayBudget,
    ) -> None:
        self._feed = feed
        self._presence = presence
        self._lanes = lanes
        self._rooms = rooms
        self._metrics = metrics
        self._budget = budget
        self._typing = RateLimiter(LIMITS["typing"])

    async def join(self, socket: Attendee, session_id: str, last_seq: int | None) -> Joined:
        """Only an ACTIVE member of the session's group enters its room; a refusal changes
        nothing. Joining a room the socket is in already answers again and counts once."""
        identity = socket.identity
        async with self._lanes.locked(session_id) as lane:
            # Checked under the lane lock, which evictions wait for: a removal committed before
            # this check refuses the join; one committed after it evicts this socket. The same
            # read gives the log's head.
            head = await self._feed.authorize_join(identity, session_id)
            head = await self._lanes.catch_up(session_id, lane, head)
            if not self._rooms.is_connected(socket.sid):
                raise Unauthenticated("disconnected while joining")
            newly = session_id not in socket.sessions
            if newly:
                await self._rooms.enter_session_room(socket.sid, session_id)
                socket.sessions.add(session_id)
                self._lanes.joined(session_id)
            replay = None
            if last_seq is not None:
                replay = await self._feed.replay(
                    session_id,
                    last_seq,
                    head,
                    max_events=self._budget.max_events,
                    max_bytes=self._budget.max_bytes,
                )
                if replay.resync == "bytes":
                    self._metrics.replays_over_budget.inc()
            user_id, name = identity.user_id, identity.name
            first = newly and await self._presence.add(session_id, user_id, name, socket.sid)
            if newly and session_id not in socket.sessions:
                # Left or disconnected while joining: `leave` could not count it out yet.
                await self._presence.remove(session_id, user_id, socket.sid)
                first = False
            if first:
                await self._rooms.signal(
                    "userJoined",
                    session_id,
                    user_id,
                    {"sessionId": session_id, "userId": user_id, "userName": name},
                )
            present = await self._presence.present(session_id)
        # Still nothing awaits from the lock's release until the caller has queued the ack.
        self._metrics.rooms.set(self._lanes.rooms)
        log.info("User %s joined session %s", identity.user_id, session_id)
        return Joined(session_id, head, replay, present)

    async def leave(self, socket: Attendee, session_id: str) -> None:
        """Out of the room (a no-op when not in it); the last socket of a user says userLeft."""
        if session_id not in socket.sessions:
            return
        socket.sessions.discard(session_id)
        await self._rooms.leave_session_room(socket.sid, session_id)
        self._lanes.left(session_id)
        self._metrics.rooms.set(self._lanes.rooms)
        identity = socket.identity
        log.info("User %s left session %s", identity.user_id, session_id)
        if await self._presence.remove(session_id, identity.user_id, socket.sid):
            await self.announce_left(session_id, identity.user_id, identity.name)

    async def leave_all(self, socket: Attendee) -> None:
        for session_id in list(socket.sessions):
            await self.leave(socket, session_id)

    async def settled(self, session_ids: list[str]) -> None:
        """Joins checked before a removal committed have entered their rooms (or given up)."""
        for session_id in session_ids:
            await self._lanes.settled(session_id)

    async def announce_left(self, session_id: str, user_id: str, user_name: str) -> None:
        """Tell the room a user left (their last socket, or their process died unannounced)."""
        await self._rooms.signal(
            "userLeft",
            session_id,
            user_id,
            {"sessionId": session_id, "userId": user_id, "userName": user_name},
        )

    async def typing(self, socket: Attendee, session_id: str, is_typing: bool) -> None:
        """Relay typing to the room: joined sockets only, at most once per 250 ms per user."""
        if session_id not in socket.sessions:
            raise Forbidden("join the session before sending typing")
        identity = socket.identity
        if not self._typing.allow((identity.user_id, session_id)):
            raise RateLimited("typing is relayed at most once per 250 ms")
        await self._rooms.signal(
            "chat.typing",
            session_id,
            identity.user_id,
            {
                "sessionId": session_id,
                "userId": identity.user_id,
                "userName": identity.name,
                "isTyping": is_typing,
            },
        )
