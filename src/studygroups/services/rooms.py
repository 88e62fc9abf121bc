"""Session rooms of live sockets: join (authorization, catch-up, replay, presence), leave, typing.

The Socket.IO namespace (realtime/namespace.py) parses a client event, calls one of these use
cases and turns the typed result into its ack, as the REST routes do with theirs. What a use case
needs from the transport it asks through the small protocols declared here, which realtime/
implements: services never import realtime/.

The join's ordering guarantee (docs/architecture.md, "The event pipeline"): a join holds the
session's lane lock twice, and never across a database read or a presence round trip when the
room is live in this process. The first hold pins the room's head and starts watching the lane
(every event emitted to the room from then on is recorded for the join); the reads and presence
run unlocked, concurrently with the session's other joins; the second hold enters the room and
takes what was watched, so `missed` = the replay up to the pinned head + the watched events, and
nothing awaits between the lock's release and the caller queuing the ack: no live event after
`head` can reach the socket before its ack. A removal revokes joins in progress (`revoke`),
which then refuse at their second hold, and waits for a join inside it (`Lanes.settled`).

A join's presence is read before it enters the room: every `userJoined` / `userLeft` the room
hears meanwhile, from any process, is applied to it in the order heard (`heard`), so the answer
and the signals that follow it leave the client with who is present.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from studygroups.domain.errors import Forbidden, RateLimited, Unauthenticated
from studygroups.identity import Identity
from studygroups.metrics import Metrics
from studygroups.ratelimit import LIMITS, RateLimiter
from studygroups.services.feed import EventFeed, Replay, encoded_size, out_of_bounds, weighed
from studygroups.services.presence import Presence
from studygroups.storage.event_log import StoredEvent

log = logging.getLogger("studygroups.realtime")

L = TypeVar("L")

PRESENCE_CHANGES = frozenset({"userJoined", "userLeft"})  # the signals a join's presence hears


class Lanes(Protocol[L]):
    """Per-session delivery lanes of this process (realtime/publisher.py `Sequencer`)."""

    def locked(self, session_id: str) -> AbstractAsyncContextManager[L]:
        """The session's lane, locked: live delivery to the room waits while it is held."""

    async def catch_up(self, session_id: str, lane: L, head: int | None = None) -> int:
        """Under the lock: bring the room up to `head`; the head."""

    def live_head(self, lane: L) -> int | None:
        """Under the lock: the last seq emitted to the room, None when nothing is emitted here."""

    def recent_since(self, lane: L, after_seq: int) -> list[StoredEvent] | None:
        """Under the lock, on a live lane: the events after `after_seq` up to its head, from
        memory; None when they are not all there."""

    def remember(self, lane: L, events: list[StoredEvent]) -> None:
        """Under the lock: a join's replay, ending at the lane's head, kept for later joins."""

    def watch(self, lane: L) -> list[StoredEvent]:
        """Under the lock: record every event emitted to the room from now on (lane kept live)."""

    def unwatch(self, session_id: str, lane: L, watched: list[StoredEvent]) -> None:
        """Stop recording into `watched`."""

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
        """Send `event` to everyone in the room but the acting user's own sockets. Wherever it
        is delivered to the room (this process too), `SessionRooms.heard` is told first."""


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


@dataclass
class _Joining:
    """A join in progress: who, where, and whether a removal revoked it meanwhile."""

    user_id: str
    session_id: str
    revoked: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # userJoined / userLeft the room heard, from any process, before the join entered it (the
    # join's presence read may predate them, and the room did not have the socket yet):
    # applied to the join's `presence`, in the order heard, when it enters (`heard`).
    changes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    entered: bool = False


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
        self._joining: dict[tuple[str, str], _Joining] = {}  # (sid, session) → its join

    @property
    def joining(self) -> int:
        """Joins in progress."""
        return len(self._joining)

    async def join(self, socket: Attendee, session_id: str, last_seq: int | None) -> Joined:
        """Only an ACTIVE member of the session's group enters its room; a refusal changes
        nothing. Joining a room the socket is in already answers again and counts once; a
        socket's joins and leaves of one session take turns."""
        key = (socket.sid, session_id)
        while (earlier := self._joining.get(key)) is not None:
            await earlier.done.wait()
        joining = self._joining[key] = _Joining(socket.identity.user_id, session_id)
        try:
            joined = await self._join(socket, session_id, last_seq, joining)
        finally:
            del self._joining[key]
            joining.done.set()
        self._metrics.rooms.set(self._lanes.rooms)
        log.info("User %s joined session %s", socket.identity.user_id, session_id)
        return joined

    async def _join(
        self, socket: Attendee, session_id: str, last_seq: int | None, joining: _Joining
    ) -> Joined:
        identity = socket.identity
        authorized = False
        replay: Replay | None = None
        async with self._lanes.locked(session_id) as lane:
            head = self._lanes.live_head(lane)
            if head is None or (last_seq is not None and last_seq > head):
                # Not live here yet (or behind the client): the log's head, read under the
                # lock, which evictions wait for; the same read checks membership.
                head = await self._feed.authorize_join(identity, session_id)
                head = await self._lanes.catch_up(session_id, lane, head)
                authorized = True
            elif last_seq is not None:
                replay = self._recent_replay(lane, last_seq, head)
            watched = self._lanes.watch(lane)
        counted = False
        try:
            if not authorized:
                # A removal committed after this read revokes the join (`revoke`).
                await self._feed.authorize_join(identity, session_id)
            if last_seq is not None and replay is None:
                replay = await self._feed.replay(
                    session_id,
                    last_seq,
                    head,
                    max_events=self._budget.max_events,
                    max_bytes=self._budget.max_bytes,
                )
            if session_id in socket.sessions:
                present = await self._presence.present(session_id)
            else:
                counted = True
                first, present = await self._presence.enter(
                    session_id, identity.user_id, identity.name, socket.sid
                )
                if first:
                    await self._rooms.signal(
                        "userJoined",
                        session_id,
                        identity.user_id,
                        {
                            "sessionId": session_id,
                            "userId": identity.user_id,
                            "userName": identity.name,
                        },
                    )
            async with self._lanes.locked(session_id) as again:
                assert again is lane, "a watched lane stays the session's lane"
                if joining.revoked:
                    raise Forbidden("you are not an active member of this group")
                if not self._rooms.is_connected(socket.sid):
                    raise Unauthenticated("disconnected while joining")
                if session_id not in socket.sessions:
                    await self._rooms.enter_session_room(socket.sid, session_id)
                    socket.sessions.add(session_id)
                    self._lanes.joined(session_id)
                counted = False
                joining.entered = True
                present = _with_changes(present, joining.changes)
                live = self._lanes.live_head(lane)
                head = head if live is None else live
                self._lanes.unwatch(session_id, lane, watched)
                replay = self._with_watched(replay, watched)
                if replay is not None and replay.events:
                    self._lanes.remember(lane, replay.events)
                # Nothing awaits from here until the caller has queued the ack.
        except BaseException:
            self._lanes.unwatch(session_id, lane, watched)
            if counted and await self._presence.remove(session_id, identity.user_id, socket.sid):
                await self.announce_left(session_id, identity.user_id, identity.name)
            raise
        return Joined(session_id, head, replay, present)

    def _recent_replay(self, lane: Any, last_seq: int, head: int) -> Replay | None:
        """Under the first lock: the replay up to the pinned head from the lane's memory, or
        None when it must be read from the log."""
        refused = out_of_bounds(last_seq, head, self._budget.max_events)
        if refused is not None:
            return refused
        events = self._lanes.recent_since(lane, last_seq)
        return None if events is None else weighed(events, self._budget.max_bytes)

    def _with_watched(self, replay: Replay | None, watched: list[StoredEvent]) -> Replay | None:
        """The replay up to the pinned head, then what reached the room during the join, within
        the same budget; a replay over it is counted."""
        if replay is not None and replay.resync is None and watched:
            events = replay.events + watched
            size = replay.size + sum(map(encoded_size, watched))
            if len(events) > self._budget.max_events:
                replay = Replay([], "count")
            elif size > self._budget.max_bytes:
                replay = Replay([], "bytes")
            else:
                replay = Replay(events, size=size)
        if replay is not None and replay.resync == "bytes":
            self._metrics.replays_over_budget.inc()
        return replay

    async def leave(self, socket: Attendee, session_id: str, *, announce: bool = True) -> None:
        """Out of the room (a no-op when not in it); the last socket of a user says userLeft.
        A join of the socket to the session in progress lands first. `announce=False` (the
        server is shutting down): out of the room only, presence left to expire."""
        joining = self._joining.get((socket.sid, session_id))
        if joining is not None:
            await joining.done.wait()
        if session_id not in socket.sessions:
            return
        socket.sessions.discard(session_id)
        await self._rooms.leave_session_room(socket.sid, session_id)
        self._lanes.left(session_id)
        self._metrics.rooms.set(self._lanes.rooms)
        identity = socket.identity
        log.info("User %s left session %s", identity.user_id, session_id)
        if announce and await self._presence.remove(session_id, identity.user_id, socket.sid):
            await self.announce_left(session_id, identity.user_id, identity.name)

    async def leave_all(self, socket: Attendee, *, announce: bool = True) -> None:
        for session_id in list(socket.sessions):
            await self.leave(socket, session_id, announce=announce)

    async def revoke(self, user_id: str, session_ids: list[str]) -> None:
        """A removal of the user committed: their joins of those sessions still to enter the
        room refuse; one entering it now lands first (then its socket is taken out as others)."""
        for joining in self._joining.values():
            if joining.user_id == user_id and joining.session_id in session_ids:
                joining.revoked = True
        for session_id in session_ids:
            await self._lanes.settled(session_id)

    def heard(self, event: str, session_id: str, user_id: str, data: Mapping[str, Any]) -> None:
        """The session's room is told a signal now, whichever process sent it (`Signals`: every
        process delivers every signal, its sender included). A presence change is recorded for
        the session's joins that have not entered the room yet, as the room would have told
        their sockets: not for joins of the acting user, whose sockets the room skips. Called
        at delivery only, so a join records each change once, in the order the room heard it."""
        if event not in PRESENCE_CHANGES or not self._joining:
            return
        change = (event, {"userId": user_id, "userName": str(data.get("userName", ""))})
        for joining in self._joining.values():
            if (
                joining.session_id == session_id
                and not joining.entered
                and joining.user_id != user_id
            ):
                joining.changes.append(change)

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


def _with_changes(
    present: list[dict[str, str]], changes: list[tuple[str, dict[str, str]]]
) -> list[dict[str, str]]:
    """`present` (sorted by userId) after the changes, in order."""
    if not changes:
        return present
    by_user = {entry["userId"]: entry for entry in present}
    for event, who in changes:
        if event == "userJoined":
            by_user.setdefault(who["userId"], who)
        else:
            by_user.pop(who["userId"], None)
    return [by_user[user_id] for user_id in sorted(by_user)]
