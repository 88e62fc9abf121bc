"""Joins racing live delivery: every socket gets each seq once and in order, `missed` first.

Sockets join a session (with or without `lastSeq`) while events are committed and handed to the
sequencer in any order, every read and presence step yielding to the others at random points.
What a socket receives is its ack's `missed`, then what is emitted to the room after it entered.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from studygroups.identity import Identity
from studygroups.metrics import Metrics
from studygroups.realtime.presence import LocalPresence
from studygroups.realtime.publisher import Sequencer, room_of
from studygroups.services.feed import Replay
from studygroups.services.rooms import ReplayBudget, SessionRooms
from studygroups.storage.event_log import StoredEvent

SESSION = "s1"


def stored(seq: int) -> StoredEvent:
    data = {"sessionId": SESSION, "seq": seq}
    return StoredEvent(SESSION, seq, "chat.message", data, "2026-01-01T00:00:00.000Z")


class Log:
    """The committed log; every read yields a random number of times, as a database would."""

    def __init__(self, rng: random.Random, committed: int) -> None:
        self.rng = rng
        self.committed = committed

    async def _yield(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            await asyncio.sleep(0)

    async def authorize_join(self, identity: Identity, session_id: str) -> int:
        head = self.committed  # the read's snapshot, then the round trip
        await self._yield()
        return head

    async def head(self, session_id: str) -> int:
        head = self.committed
        await self._yield()
        return head

    async def between(self, session_id: str, after_seq: int, up_to: int) -> list[StoredEvent]:
        await self._yield()
        return [stored(seq) for seq in range(after_seq + 1, min(up_to, self.committed) + 1)]

    async def replay(
        self, session_id: str, after_seq: int, up_to: int, *, max_events: int, max_bytes: int
    ) -> Replay:
        await self._yield()
        if after_seq > up_to:
            return Replay([], "ahead")
        return Replay([stored(seq) for seq in range(after_seq + 1, up_to + 1)])


class SlowPresence(LocalPresence):
    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    async def add(self, session_id: str, user_id: str, user_name: str, sid: str) -> bool:
        for _ in range(self.rng.randint(0, 3)):
            await asyncio.sleep(0)
        return await super().add(session_id, user_id, user_name, sid)


class Room:
    """The transport: who is in the room, and what each socket received live."""

    def __init__(self) -> None:
        self.inside: set[str] = set()
        self.live: dict[str, list[int]] = {}

    def is_connected(self, sid: str) -> bool:
        return True

    async def enter_session_room(self, sid: str, session_id: str) -> None:
        self.inside.add(sid)

    async def leave_session_room(self, sid: str, session_id: str) -> None:
        self.inside.discard(sid)

    async def signal(self, event: str, session_id: str, user_id: str, data: dict[str, Any]) -> None:
        await asyncio.sleep(0)

    async def emit(self, event: str, data: Any, room: str, skip: list[str] | None) -> None:
        assert room == room_of(SESSION)
        for sid in self.inside:
            self.live.setdefault(sid, []).append(data["seq"])


class Socket:
    def __init__(self, sid: str, user_id: str) -> None:
        self.sid = sid
        self.identity = Identity(user_id, f"{user_id}@example.org", user_id)
        self.sessions: set[str] = set()


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    before=st.integers(0, 5),
    during=st.integers(1, 25),
    joiners=st.integers(1, 8),
)
def test_sockets_joining_while_events_arrive_in_any_order_get_each_seq_once_in_order(
    seed: int, before: int, during: int, joiners: int
) -> None:
    total = before + during

    async def scenario() -> None:
        rng = random.Random(seed)
        log = Log(rng, committed=before)
        room = Room()
        sequencer = Sequencer(log, Metrics())  # type: ignore[arg-type]
        sequencer.local_emit = room.emit
        rooms = SessionRooms(
            feed=log,  # type: ignore[arg-type]
            presence=SlowPresence(rng),
            lanes=sequencer,
            rooms=room,
            metrics=Metrics(),
            budget=ReplayBudget(max_events=1_000, max_bytes=1_000_000),
        )

        async def publish() -> None:
            pending: list[StoredEvent] = []
            for seq in range(before + 1, total + 1):
                log.committed = seq  # committed, then published: in flight in any order
                pending.append(stored(seq))
                await asyncio.sleep(0)
            rng.shuffle(pending)
            await asyncio.gather(*(sequencer.deliver(SESSION, [event]) for event in pending))

        async def join(index: int) -> tuple[str, int | None, Any]:
            for _ in range(rng.randint(0, 2 * during)):
                await asyncio.sleep(0)
            socket = Socket(f"sid-{index}", f"u-{index % 3}")
            last_seq = rng.choice([None, 0, rng.randint(0, log.committed)])
            return socket.sid, last_seq, await rooms.join(socket, SESSION, last_seq)

        results = await asyncio.gather(publish(), *(join(i) for i in range(joiners)))
        for sid, last_seq, joined in results[1:]:
            live = room.live.get(sid, [])
            if last_seq is None:
                assert live == list(range(joined.head + 1, total + 1)), (sid, joined.head)
            else:  # a lastSeq the log holds is never "ahead", even of a lagging room
                assert joined.replay.resync is None
                got = [event.seq for event in joined.replay.events] + live
                assert got == list(range(last_seq + 1, total + 1)), (sid, last_seq)

    asyncio.run(scenario())


class CountingLog(Log):
    def __init__(self, rng: random.Random, committed: int) -> None:
        super().__init__(rng, committed)
        self.replays: list[int] = []

    async def replay(
        self, session_id: str, after_seq: int, up_to: int, *, max_events: int, max_bytes: int
    ) -> Replay:
        self.replays.append(after_seq)
        return await super().replay(
            session_id, after_seq, up_to, max_events=max_events, max_bytes=max_bytes
        )


def test_rejoins_after_a_restart_read_their_missed_events_from_the_log_once_per_session() -> None:
    async def scenario() -> None:
        log = CountingLog(random.Random(7), committed=10)
        room = Room()
        sequencer = Sequencer(log, Metrics())  # type: ignore[arg-type]
        sequencer.local_emit = room.emit
        rooms = SessionRooms(
            feed=log,  # type: ignore[arg-type]
            presence=LocalPresence(),
            lanes=sequencer,
            rooms=room,
            metrics=Metrics(),
            budget=ReplayBudget(max_events=1_000, max_bytes=1_000_000),
        )

        async def missed(index: int, last_seq: int) -> list[int]:
            joined = await rooms.join(Socket(f"sid-{index}", f"u-{index}"), SESSION, last_seq)
            assert joined.replay is not None and joined.replay.resync is None
            return [event.seq for event in joined.replay.events]

        assert await missed(1, 4) == [5, 6, 7, 8, 9, 10]  # the first reads the log
        assert await missed(2, 6) == [7, 8, 9, 10]
        assert await missed(3, 10) == []
        assert log.replays == [4]
        log.committed = 11
        await sequencer.deliver(SESSION, [stored(11)])
        assert await missed(4, 8) == [9, 10, 11]
        assert await missed(5, 2) == [3, 4, 5, 6, 7, 8, 9, 10, 11]  # before what it kept: read
        assert await missed(6, 2) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
        assert log.replays == [4, 2]
        # Each socket then gets what follows live, once.
        log.committed = 12
        await sequencer.deliver(SESSION, [stored(12)])
        assert [room.live[f"sid-{i}"] for i in range(1, 7)] == 3 * [[11, 12]] + 3 * [[12]]

    asyncio.run(scenario())
