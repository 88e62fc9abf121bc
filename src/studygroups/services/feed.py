"""Reading the durable event log for delivery: the session head and ranges of stored events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Literal

import orjson

from studygroups.identity import Identity
from studygroups.services.access import head_for_member
from studygroups.services.batching import PerTurn
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.storage import event_log
from studygroups.storage import sessions as session_rows
from studygroups.storage.event_log import StoredEvent

REPLAY_CHUNK = 200  # events read per query while a replay is measured against its byte budget
# Pooled connections a start opens at once as it begins serving, each with the joins' reads
# prepared (`EventFeed.warm`; at most half the pool): after a restart hundreds of joins arrive
# together, and a read that is the first on its connection waits for the connect and the
# preparation of its statement first.
WARM_CONNECTIONS = 8


def encoded_size(event: StoredEvent) -> int:
    """Bytes of the event as a `missed` item in a JSON ack (as the Socket.IO encoder writes it)."""
    item = event.as_json()
    try:
        return len(orjson.dumps(item))
    except TypeError:  # what orjson refuses (integers beyond 64 bits) the encoder writes as json
        return len(json.dumps(item, separators=(",", ":")).encode())


@dataclass(frozen=True)
class Replay:
    """What a join ack replays: `events`, or `resync` saying why the client must read the feed
    instead (`ahead`: lastSeq beyond the log; `count`: too many events; `bytes`: too large);
    `size` is the events' weight in a JSON ack."""

    events: list[StoredEvent]
    resync: Literal["ahead", "count", "bytes"] | None = None
    size: int = 0


def out_of_bounds(after_seq: int, up_to: int, max_events: int) -> Replay | None:
    """The resync a replay of after_seq < seq ≤ up_to answers before anything is read."""
    if after_seq > up_to:
        return Replay([], "ahead")
    if up_to - after_seq > max_events:
        return Replay([], "count")
    return None


def weighed(events: list[StoredEvent], max_bytes: int) -> Replay:
    """A replay of `events` (already in memory), or the `bytes` resync past `max_bytes`."""
    size = 0
    for event in events:
        size += encoded_size(event)
        if size > max_bytes:
            return Replay([], "bytes")
    return Replay(events, size=size)


class EventFeed:
    """What the realtime gateway reads from the log: heads, gaps and replays."""

    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units
        # The membership-and-head reads of the joins that ask in one loop turn, made together
        # (services/batching.py): after a restart hundreds of joins ask within a second, and
        # each read alone cost ~170 us of CPU and a connection checkout.
        self._joins: PerTurn[tuple[str, str], tuple[int, str | None] | None] = PerTurn(
            self._read_joins
        )

    async def head(self, session_id: str) -> int:
        async with self._units.reading() as db:
            return await event_log.head(db, session_id) or 0

    async def between(self, session_id: str, after_seq: int, up_to: int) -> list[StoredEvent]:
        """Events with after_seq < seq ≤ up_to, in order."""
        async with self._units.reading() as db:
            return await event_log.read_between(
                db, session_id, after_seq, up_to, limit=max(up_to - after_seq, 0)
            )

    async def replay(
        self, session_id: str, after_seq: int, up_to: int, *, max_events: int, max_bytes: int
    ) -> Replay:
        """Events with after_seq < seq ≤ up_to for a join ack, unless there are more than
        `max_events` of them or they weigh more than `max_bytes` as JSON: an ack a client cannot
        receive (a socket's write buffer is bounded) would be cut, and so would every retry."""
        refused = out_of_bounds(after_seq, up_to, max_events)
        if refused is not None:
            return refused
        events: list[StoredEvent] = []
        size = 0
        async with self._units.reading() as db:
            cursor = after_seq
            while cursor < up_to:
                chunk = await event_log.read_between(
                    db, session_id, cursor, up_to, limit=min(REPLAY_CHUNK, up_to - cursor)
                )
                if not chunk:
                    break
                for event in chunk:
                    size += encoded_size(event)
                    if size > max_bytes:
                        return Replay([], "bytes")
                events.extend(chunk)
                cursor = chunk[-1].seq
        return Replay(events, size=size)

    async def warm(self, connections: int) -> None:
        """Open `connections` pooled connections at once and run the joins' reads on each (the
        membership-and-head batch, the replay), which leaves their statements prepared there:
        the first joins after a start then find connections ready."""
        ready = asyncio.Event()
        warmed = 0

        async def one() -> None:
            nonlocal warmed
            async with self._units.reading() as db:
                await session_rows.heads_and_memberships(db, [("", "")])
                await event_log.read_between(db, "", 0, 0, 1)
                warmed += 1
                if warmed == connections:
                    ready.set()
                await ready.wait()  # each holds its connection until all are open

        async with asyncio.TaskGroup() as group:
            for _ in range(connections):
                group.create_task(one())

    async def authorize_join(self, identity: Identity, session_id: str) -> int:
        """Only an ACTIVE member of the session's group may join its room; the session's head.
        The joins that ask in one loop turn share one read: one pooled connection and, on
        PostgreSQL, one statement."""
        return head_for_member(await self._joins.ask((session_id, identity.user_id)))

    async def _read_joins(self, asks: list[tuple[str, str]]) -> list[tuple[int, str | None] | None]:
        async with self._units.reading() as db:
            found = await session_rows.heads_and_memberships(db, asks)
        return [found.get(pair) for pair in asks]
