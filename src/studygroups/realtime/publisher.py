"""Durable events to session rooms, each socket getting every seq once and in order.

How order is kept (docs/architecture.md, "The event pipeline"):

* Services hand committed events to `RoomPublisher.publish`, which passes them to the Socket.IO
  manager as one internal message. In one process the manager hands it straight to this
  process's `Sequencer`; with Redis every process's manager hands it to its own `Sequencer`,
  in whatever order Redis delivers messages from different publishers.
* The `Sequencer` is the only code that emits durable events to local sockets. Per session it
  keeps a lane: a lock and the last seq it delivered. Under the lock an event at or below that
  seq is dropped (already delivered), the next seq is emitted, and an event further ahead first
  has the gap read from the log and emitted. A seq is only published after its transaction
  commits, and the session row lock numbers commits in order, so the gap is always in the log.
* `joinSession` (services/rooms.py) takes the same lane lock twice, briefly. First it pins the
  room's head (what the lane last delivered; the log's head, read under the lock, when the lane
  is not live yet) and starts *watching* the lane: every event emitted to the room from then on
  is also recorded for the join. Unlocked, it checks membership, reads the replay up to the
  pinned head and counts presence, concurrently with other joins. Locked again, it enters the
  room and answers `missed` = the replay + what it watched meanwhile, and `seq` = the lane's
  head. Everything after that arrives live, so a socket gets each event once — live or in
  `missed`, never both, never a gap.
* A live lane also keeps its last `RECENT_EVENTS` events, an unbroken run up to what it
  delivered: a join whose `lastSeq` falls within that run takes its replay from there, under
  the first lock, and reads nothing from the log (after a restart every client of a session
  rejoins from about the same seq: the first join's replay read seeds the run for the others).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from studygroups.metrics import Metrics
from studygroups.services.feed import EventFeed
from studygroups.storage.event_log import StoredEvent

log = logging.getLogger("studygroups.realtime")

NAMESPACE = "/study-groups"
DURABLE = "__studygroups.durable"
EVICT = "__studygroups.evict"
SIGNAL = "__studygroups.signal"  # an ephemeral event, delivered by each process (namespace.py)
INTERNAL_EVENTS = frozenset({DURABLE, EVICT, SIGNAL})

RECENT_EVENTS = 64  # per live lane: the replays of rejoins after a restart or a dropped link

# emit(event, data, room, skip_sids) to this process's sockets only
LocalEmit = Callable[[str, Any, str, list[str] | None], Awaitable[None]]


def room_of(session_id: str) -> str:
    return f"session:{session_id}"


def encode(event: StoredEvent) -> list[Any]:
    return [event.seq, event.event, event.data, event.created_at]


def decode(session_id: str, item: list[Any]) -> StoredEvent:
    seq, name, data, created_at = item
    return StoredEvent(session_id, int(seq), str(name), dict(data), str(created_at))


@dataclass
class Lane:
    """Delivery state of one session in this process."""

    delivered: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    members: int = 0  # local sockets in the room
    watchers: list[list[StoredEvent]] = field(default_factory=list)  # joins in progress
    # The last events delivered, an unbroken run of seqs ending at `delivered` (or empty).
    recent: deque[StoredEvent] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))

    @property
    def live(self) -> bool:
        """Events are emitted to the room: it has members, or joins are watching it."""
        return self.members > 0 or bool(self.watchers)


class Sequencer:
    """Delivers durable events to this process's sockets in seq order, once each."""

    def __init__(self, feed: EventFeed, metrics: Metrics) -> None:
        self._feed = feed
        self._metrics = metrics
        self._lanes: dict[str, Lane] = {}
        self.local_emit: LocalEmit | None = None

    def lane(self, session_id: str) -> Lane:
        lane = self._lanes.get(session_id)
        if lane is None:
            lane = self._lanes[session_id] = Lane()
        return lane

    @contextlib.asynccontextmanager
    async def locked(self, session_id: str) -> AsyncIterator[Lane]:
        """The session's current lane, locked. An emptied lane may be dropped while we wait
        for its lock; then we take the lane that replaced it, never work on an orphan."""
        while True:
            lane = self.lane(session_id)
            async with lane.lock:
                if self._lanes.get(session_id) is lane:
                    try:
                        yield lane
                    finally:
                        if not lane.live and self._lanes.get(session_id) is lane:
                            del self._lanes[session_id]  # a refused join leaves nothing behind
                    return

    async def deliver(self, session_id: str, events: Sequence[StoredEvent]) -> None:
        lane = self._lanes.get(session_id)
        if lane is None:
            return  # nobody here listens to this session; joiners read the log
        async with lane.lock:
            if not lane.live:
                return
            for event in sorted(events, key=lambda e: e.seq):
                await self._advance_to(session_id, lane, event.seq, event)

    async def catch_up(self, session_id: str, lane: Lane, head: int | None = None) -> int:
        """Under the lane lock: emit whatever the log holds beyond what was delivered, up to
        `head` (the log's head, read under this lock) or, when not given, the head read now."""
        if head is None:
            head = await self._feed.head(session_id)
        if lane.delivered is None or not lane.live:
            if lane.delivered != head:
                lane.recent.clear()  # the run no longer ends at what was delivered
            lane.delivered = head
        elif head > lane.delivered:
            await self._advance_to(session_id, lane, head, None)
        return head

    async def catch_up_all(self) -> None:
        """After a broken link to the other processes: fill every room from the log."""
        for session_id, lane in list(self._lanes.items()):
            async with lane.lock:
                await self.catch_up(session_id, lane)

    async def _advance_to(
        self, session_id: str, lane: Lane, seq: int, event: StoredEvent | None
    ) -> None:
        delivered = lane.delivered or 0
        if lane.delivered is not None and seq <= delivered:
            return
        last = seq if event is None else seq - 1
        if lane.delivered is not None and last > delivered:
            for gap_event in await self._feed.between(session_id, delivered, last):
                await self._emit(session_id, lane, gap_event)
        if event is not None:
            await self._emit(session_id, lane, event)
        lane.delivered = max(lane.delivered or 0, seq)

    async def _emit(self, session_id: str, lane: Lane, event: StoredEvent) -> None:
        assert self.local_emit is not None, "the sequencer is wired by create_app"
        await self.local_emit(event.event, event.data, room_of(session_id), None)
        if lane.recent and lane.recent[-1].seq != event.seq - 1:
            lane.recent.clear()
        lane.recent.append(event)
        lane.delivered = event.seq
        for watched in lane.watchers:
            watched.append(event)
        self._metrics.events_emitted.labels(event.event).inc()
        log.info("Emitted %s to session %s seq=%d", event.event, session_id, event.seq)

    async def settled(self, session_id: str) -> None:
        """Wait until what holds the session's lane now (a join entering the room) is done."""
        lane = self._lanes.get(session_id)
        if lane is not None:
            async with lane.lock:
                pass

    def joined(self, session_id: str) -> None:
        self.lane(session_id).members += 1

    def left(self, session_id: str) -> None:
        lane = self._lanes.get(session_id)
        if lane is None:
            return
        lane.members -= 1
        self._drop_if_idle(session_id, lane)

    def live_head(self, lane: Lane) -> int | None:
        """Under the lock: the last seq emitted to a live room (None when the lane is not live:
        then nothing is emitted here, and the log's head is the room's)."""
        return lane.delivered if lane.live else None

    def recent_since(self, lane: Lane, after_seq: int) -> list[StoredEvent] | None:
        """Under the lock, on a live lane: the events after `after_seq` up to what the lane
        delivered, from memory; None when the lane's run does not reach back that far."""
        head = lane.delivered
        if head is None or after_seq > head:
            return None
        if after_seq == head:
            return []
        recent = lane.recent
        if not recent or recent[-1].seq != head or after_seq < recent[0].seq - 1:
            return None
        start = after_seq - recent[0].seq + 1
        return [recent[i] for i in range(start, len(recent))]

    def remember(self, lane: Lane, events: Sequence[StoredEvent]) -> None:
        """Under the lock: a join's replay (read from the log, then what it watched) becomes the
        lane's run of recent events when it ends at what the lane delivered and reaches further
        back; the joins that follow take their replays from it."""
        recent = lane.recent
        if not events or events[-1].seq != lane.delivered:
            return
        if recent and recent[0].seq <= events[0].seq:
            return
        recent.clear()
        recent.extend(events[-RECENT_EVENTS:])

    def watch(self, lane: Lane) -> list[StoredEvent]:
        """Under the lock: a list that gets every event emitted to the room from now on, until
        `unwatch`. The lane stays live meanwhile."""
        watched: list[StoredEvent] = []
        lane.watchers.append(watched)
        return watched

    def unwatch(self, session_id: str, lane: Lane, watched: list[StoredEvent]) -> None:
        lane.watchers = [w for w in lane.watchers if w is not watched]
        self._drop_if_idle(session_id, lane)

    def _drop_if_idle(self, session_id: str, lane: Lane) -> None:
        # A held lock's holder drops the lane itself when it is done (`locked`).
        if not lane.live and not lane.lock.locked() and self._lanes.get(session_id) is lane:
            del self._lanes[session_id]

    @property
    def rooms(self) -> int:
        return len(self._lanes)


Relay = Callable[[str, Any, str], Awaitable[None]]


class RoomPublisher:
    """The services' Publisher: hands committed events and evictions to every process."""

    def __init__(self, relay: Relay) -> None:
        self._relay = relay

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        by_session: dict[str, list[StoredEvent]] = {}
        for event in events:
            by_session.setdefault(event.session_id, []).append(event)
        for session_id, batch in by_session.items():
            message = {"sessionId": session_id, "events": [encode(e) for e in batch]}
            await self._relay(DURABLE, message, room_of(session_id))

    async def remove_user(self, user_id: str, session_ids: Sequence[str]) -> None:
        await self._relay(
            EVICT, {"userId": user_id, "sessionIds": list(session_ids)}, f"user:{user_id}"
        )
