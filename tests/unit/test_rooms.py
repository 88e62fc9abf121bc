"""The join and leave use cases (services/rooms.py) against fakes of the transport and the log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from studygroups.domain.errors import Forbidden, Unauthenticated
from studygroups.identity import Identity
from studygroups.metrics import Metrics
from studygroups.realtime.presence import LocalPresence
from studygroups.realtime.publisher import Sequencer
from studygroups.services.feed import Replay
from studygroups.services.rooms import ReplayBudget, SessionRooms
from studygroups.storage.event_log import StoredEvent

SESSION = "s1"
ANA = Identity("u-ana", "ana@example.org", "Ana")


@dataclass
class Socket:
    sid: str
    identity: Identity
    sessions: set[str] = field(default_factory=set)


class FakeFeed:
    """The log as a join reads it: a head, and members only."""

    def __init__(self, head: int, members: set[str]) -> None:
        self.head_seq = head
        self.members = members

    async def authorize_join(self, identity: Identity, session_id: str) -> int:
        if identity.user_id not in self.members:
            raise Forbidden("not a member")
        return self.head_seq

    async def head(self, session_id: str) -> int:
        return self.head_seq

    async def between(self, session_id: str, after_seq: int, up_to: int) -> list[StoredEvent]:
        return []

    async def replay(
        self, session_id: str, after_seq: int, up_to: int, *, max_events: int, max_bytes: int
    ) -> Replay:
        return Replay([], "bytes")


class FakeRooms:
    def __init__(self) -> None:
        self.connected: set[str] = set()
        self.members: set[tuple[str, str]] = set()
        self.signals: list[tuple[str, dict[str, Any]]] = []

    def is_connected(self, sid: str) -> bool:
        return sid in self.connected

    async def enter_session_room(self, sid: str, session_id: str) -> None:
        self.members.add((sid, session_id))

    async def leave_session_room(self, sid: str, session_id: str) -> None:
        self.members.discard((sid, session_id))

    async def signal(self, event: str, session_id: str, user_id: str, data: dict[str, Any]) -> None:
        self.signals.append((event, data))


class GatedPresence(LocalPresence):
    """Presence whose `add` waits for a gate: a join caught halfway, its lane lock held."""

    def __init__(self) -> None:
        super().__init__()
        self.adding = asyncio.Event()
        self.gate = asyncio.Event()

    async def add(self, session_id: str, user_id: str, user_name: str, sid: str) -> bool:
        self.adding.set()
        await self.gate.wait()
        return await super().add(session_id, user_id, user_name, sid)


def make(
    members: set[str], presence: LocalPresence | None = None
) -> tuple[SessionRooms, FakeRooms, Sequencer, Metrics, LocalPresence]:
    feed = FakeFeed(head=7, members=members)
    metrics = Metrics()
    sequencer = Sequencer(feed, metrics)  # type: ignore[arg-type]
    rooms = FakeRooms()
    presence = presence or LocalPresence()
    use_cases = SessionRooms(
        feed=feed,  # type: ignore[arg-type]
        presence=presence,
        lanes=sequencer,
        rooms=rooms,
        metrics=metrics,
        budget=ReplayBudget(max_events=10, max_bytes=100),
    )
    return use_cases, rooms, sequencer, metrics, presence


async def test_a_refused_join_enters_no_room_counts_no_one_and_leaves_no_lane() -> None:
    use_cases, rooms, sequencer, _, presence = make(members=set())
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    with pytest.raises(Forbidden):
        await use_cases.join(socket, SESSION, None)
    assert socket.sessions == set() and rooms.members == set()
    assert await presence.present(SESSION) == []
    assert sequencer.rooms == 0


async def test_a_socket_gone_before_its_join_enters_no_room() -> None:
    use_cases, rooms, sequencer, _, _ = make(members={ANA.user_id})
    socket = Socket("sid-1", ANA)  # never connected, or disconnected meanwhile
    with pytest.raises(Unauthenticated):
        await use_cases.join(socket, SESSION, None)
    assert rooms.members == set() and sequencer.rooms == 0


async def test_a_join_answers_the_head_presence_and_a_resync_counted_when_over_budget() -> None:
    use_cases, rooms, _, metrics, _ = make(members={ANA.user_id})
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    before = metrics.replays_over_budget._value.get()
    joined = await use_cases.join(socket, SESSION, last_seq=0)
    assert joined.head == 7
    assert joined.replay is not None and joined.replay.resync == "bytes"
    assert joined.presence == [{"userId": ANA.user_id, "userName": ANA.name}]
    assert metrics.replays_over_budget._value.get() == before + 1
    assert [event for event, _ in rooms.signals] == ["userJoined"]


async def test_an_eviction_waits_for_a_join_in_progress_and_then_takes_the_socket_out() -> None:
    presence = GatedPresence()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id}, presence=presence)
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    join = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await presence.adding.wait()  # the join holds the lane lock here
    eviction = asyncio.create_task(use_cases.settled([SESSION]))
    await asyncio.sleep(0)
    assert not eviction.done()
    presence.gate.set()
    await join
    await eviction
    await use_cases.leave(socket, SESSION)
    assert rooms.members == set() and await presence.present(SESSION) == []
    assert [event for event, _ in rooms.signals] == ["userJoined", "userLeft"]


async def test_a_socket_that_leaves_while_its_join_counts_presence_is_counted_out() -> None:
    presence = GatedPresence()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id}, presence=presence)
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    join = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await presence.adding.wait()
    await use_cases.leave(socket, SESSION)  # before presence counted it in
    presence.gate.set()
    joined = await join
    assert joined.presence == []
    assert rooms.signals == []  # neither userJoined nor userLeft for a socket never counted


async def test_leaving_a_room_never_joined_changes_nothing() -> None:
    use_cases, rooms, _, _, _ = make(members={ANA.user_id})
    await use_cases.leave(Socket("sid-1", ANA), SESSION)
    assert rooms.signals == [] and rooms.members == set()
