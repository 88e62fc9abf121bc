"""The sequencer delivers each seq once, in order, whatever order the publishers hand them over."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from studygroups.metrics import Metrics
from studygroups.realtime.publisher import RECENT_EVENTS, Sequencer, room_of
from studygroups.storage.event_log import StoredEvent

SESSION = "s1"


def stored(seq: int) -> StoredEvent:
    data = {"sessionId": SESSION, "seq": seq, "timestamp": "2026-01-01T00:00:00.000Z"}
    return StoredEvent(SESSION, seq, "chat.message", data, "2026-01-01T00:00:00.000Z")


class FakeLog:
    """The committed event log, as the sequencer reads it."""

    def __init__(self, head: int) -> None:
        self.head_seq = head
        self.reads: list[tuple[int, int]] = []

    async def head(self, session_id: str) -> int:
        return self.head_seq

    async def between(self, session_id: str, after_seq: int, up_to: int) -> list[StoredEvent]:
        self.reads.append((after_seq, up_to))
        await asyncio.sleep(0)  # a real read yields to other deliveries
        return [stored(seq) for seq in range(after_seq + 1, min(up_to, self.head_seq) + 1)]


class Room:
    def __init__(self) -> None:
        self.received: list[int] = []

    async def emit(self, event: str, data: Any, room: str, skip: list[str] | None) -> None:
        assert room == room_of(SESSION)
        self.received.append(data["seq"])


async def joined_sequencer(log: FakeLog) -> tuple[Sequencer, Room]:
    sequencer = Sequencer(log, Metrics())  # type: ignore[arg-type]
    room = Room()
    sequencer.local_emit = room.emit
    lane = sequencer.lane(SESSION)
    async with lane.lock:
        await sequencer.catch_up(SESSION, lane)
        sequencer.joined(SESSION)
    return sequencer, room


async def test_an_early_event_waits_for_the_gap_to_be_read_from_the_log() -> None:
    log = FakeLog(head=0)
    sequencer, room = await joined_sequencer(log)
    log.head_seq = 3

    await sequencer.deliver(SESSION, [stored(3)])

    assert room.received == [1, 2, 3]
    assert log.reads == [(0, 2)]


async def test_an_event_already_delivered_is_dropped() -> None:
    log = FakeLog(head=0)
    sequencer, room = await joined_sequencer(log)
    log.head_seq = 2

    await sequencer.deliver(SESSION, [stored(1), stored(2)])
    await sequencer.deliver(SESSION, [stored(1)])
    await sequencer.deliver(SESSION, [stored(2)])

    assert room.received == [1, 2]


async def test_a_joiner_starts_after_the_head_it_was_told() -> None:
    log = FakeLog(head=5)
    sequencer, room = await joined_sequencer(log)
    log.head_seq = 6

    await sequencer.deliver(SESSION, [stored(5), stored(6)])

    assert room.received == [6]


async def test_events_for_a_session_nobody_joined_here_are_not_emitted() -> None:
    log = FakeLog(head=3)
    sequencer = Sequencer(log, Metrics())  # type: ignore[arg-type]
    room = Room()
    sequencer.local_emit = room.emit

    await sequencer.deliver(SESSION, [stored(3)])

    assert room.received == []


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=40),
    seed=st.integers(0, 10_000),
    duplicates=st.integers(0, 10),
)
def test_racing_publishers_in_any_order_yield_every_seq_once_in_order(
    total: int, seed: int, duplicates: int
) -> None:
    async def scenario() -> list[int]:
        log = FakeLog(head=0)
        sequencer, room = await joined_sequencer(log)
        log.head_seq = total
        rng = random.Random(seed)
        batches = [[stored(seq)] for seq in range(1, total + 1)]
        batches += [[stored(rng.randint(1, total))] for _ in range(duplicates)]
        rng.shuffle(batches)
        await asyncio.gather(*(sequencer.deliver(SESSION, batch) for batch in batches))
        return room.received

    assert asyncio.run(scenario()) == list(range(1, total + 1))


def seqs(events: list[StoredEvent] | None) -> list[int] | None:
    return None if events is None else [event.seq for event in events]


async def test_a_live_lane_hands_out_the_events_after_a_seq_from_its_unbroken_run() -> None:
    log = FakeLog(head=3)
    sequencer, _ = await joined_sequencer(log)
    await sequencer.deliver(SESSION, [stored(4), stored(5), stored(6)])
    lane = sequencer.lane(SESSION)
    assert seqs(sequencer.recent_since(lane, 4)) == [5, 6]
    assert seqs(sequencer.recent_since(lane, 3)) == [4, 5, 6]
    assert seqs(sequencer.recent_since(lane, 6)) == []  # nothing missed
    assert sequencer.recent_since(lane, 2) is None  # before the run: the log has it
    assert sequencer.recent_since(lane, 7) is None  # ahead of the lane


async def test_a_lane_keeps_its_last_events_and_a_join_replay_that_reaches_further_back() -> None:
    log = FakeLog(head=0)
    sequencer, _ = await joined_sequencer(log)
    total = RECENT_EVENTS + 10
    await sequencer.deliver(SESSION, [stored(seq) for seq in range(1, total + 1)])
    lane = sequencer.lane(SESSION)
    assert len(sequencer.recent_since(lane, 10) or []) == RECENT_EVENTS
    assert sequencer.recent_since(lane, 9) is None

    log = FakeLog(head=10)
    sequencer, _ = await joined_sequencer(log)
    await sequencer.deliver(SESSION, [stored(11), stored(12)])
    lane = sequencer.lane(SESSION)
    assert sequencer.recent_since(lane, 7) is None
    # A join's replay read from the log that does not end at the head is not kept …
    sequencer.remember(lane, [stored(seq) for seq in range(8, 12)])
    assert sequencer.recent_since(lane, 7) is None
    # … one that does, and starts earlier, is: later joins from there read nothing.
    sequencer.remember(lane, [stored(seq) for seq in range(8, 13)])
    assert [e.seq for e in sequencer.recent_since(lane, 7) or []] == [8, 9, 10, 11, 12]


async def test_a_lane_that_jumps_ahead_without_emitting_forgets_its_run() -> None:
    log = FakeLog(head=2)
    sequencer, _ = await joined_sequencer(log)
    await sequencer.deliver(SESSION, [stored(3)])
    lane = sequencer.lane(SESSION)
    sequencer.left(SESSION)  # the room empties: nothing is emitted here any more
    lane = sequencer.lane(SESSION)
    log.head_seq = 9
    async with lane.lock:
        await sequencer.catch_up(SESSION, lane)
        sequencer.joined(SESSION)
    assert sequencer.recent_since(lane, 2) is None
    assert sequencer.recent_since(lane, 8) is None
    assert sequencer.recent_since(lane, 9) == []
