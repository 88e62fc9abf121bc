"""The join and leave use cases (services/rooms.py) against fakes of the transport and the log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
BEN = Identity("u-ben", "ben@example.org", "Ben")


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
    """The transport: connected sockets, room membership, and the signals told to rooms, each
    delivered back to this process's use cases as the gateway delivers it (`heard`)."""

    def __init__(self) -> None:
        self.connected: set[str] = set()
        self.members: set[tuple[str, str]] = set()
        self.signals: list[tuple[str, dict[str, Any]]] = []
        self.heard: Callable[[str, str, str, dict[str, Any]], None] | None = None

    def is_connected(self, sid: str) -> bool:
        return sid in self.connected

    async def enter_session_room(self, sid: str, session_id: str) -> None:
        self.members.add((sid, session_id))

    async def leave_session_room(self, sid: str, session_id: str) -> None:
        self.members.discard((sid, session_id))

    async def signal(self, event: str, session_id: str, user_id: str, data: dict[str, Any]) -> None:
        self.signals.append((event, data))
        assert self.heard is not None
        self.heard(event, session_id, user_id, data)


class GatedPresence(LocalPresence):
    """Presence whose `add` waits for a gate (but for users in `passing`): a join caught halfway,
    membership checked, not in the room yet."""

    def __init__(self) -> None:
        super().__init__()
        self.adding = asyncio.Event()
        self.gate = asyncio.Event()
        self.passing: set[str] = set()

    async def add(self, session_id: str, user_id: str, user_name: str, sid: str) -> bool:
        if user_id not in self.passing:
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
    rooms.heard = use_cases.heard
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


async def test_a_removal_during_a_join_in_progress_refuses_it_and_counts_the_socket_out() -> None:
    presence = GatedPresence()
    use_cases, rooms, sequencer, _, _ = make(members={ANA.user_id}, presence=presence)
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    join = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await presence.adding.wait()  # membership checked, not in the room yet
    await use_cases.revoke(ANA.user_id, [SESSION])
    presence.gate.set()
    with pytest.raises(Forbidden):
        await join
    assert socket.sessions == set() and rooms.members == set()
    assert await presence.present(SESSION) == [] and sequencer.rooms == 0
    assert [event for event, _ in rooms.signals] == ["userJoined", "userLeft"]


async def test_a_removal_waits_for_a_join_entering_the_room_and_then_can_take_it_out() -> None:
    use_cases, rooms, _, _, presence = make(members={ANA.user_id})
    entering, gate = asyncio.Event(), asyncio.Event()
    enter = rooms.enter_session_room

    async def slow_enter(sid: str, session_id: str) -> None:
        entering.set()
        await gate.wait()
        await enter(sid, session_id)

    rooms.enter_session_room = slow_enter  # type: ignore[method-assign]
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    join = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await entering.wait()  # the join holds the lane lock here
    eviction = asyncio.create_task(use_cases.revoke(ANA.user_id, [SESSION]))
    await asyncio.sleep(0)
    assert not eviction.done()
    gate.set()
    await join
    await eviction
    await use_cases.leave(socket, SESSION)
    assert rooms.members == set() and await presence.present(SESSION) == []
    assert [event for event, _ in rooms.signals] == ["userJoined", "userLeft"]


async def test_a_socket_that_leaves_while_its_join_is_in_progress_leaves_after_the_join() -> None:
    presence = GatedPresence()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id}, presence=presence)
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    join = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await presence.adding.wait()
    leave = asyncio.create_task(use_cases.leave(socket, SESSION))
    await asyncio.sleep(0)
    presence.gate.set()
    joined = await join
    await leave
    assert joined.presence == [{"userId": ANA.user_id, "userName": ANA.name}]
    assert socket.sessions == set() and rooms.members == set()
    assert await presence.present(SESSION) == []
    assert [event for event, _ in rooms.signals] == ["userJoined", "userLeft"]


async def test_a_slow_join_does_not_hold_up_the_other_joins_of_its_session() -> None:
    presence = GatedPresence()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id, BEN.user_id}, presence=presence)
    slow, quick = Socket("sid-ana", ANA), Socket("sid-ben", BEN)
    rooms.connected.update({slow.sid, quick.sid})
    stuck = asyncio.create_task(use_cases.join(slow, SESSION, None))
    await presence.adding.wait()  # Ana's join waits on presence, the lane's lock released
    presence.passing.add(BEN.user_id)
    joined = await asyncio.wait_for(use_cases.join(quick, SESSION, None), timeout=5)
    assert joined.head == 7 and not stuck.done()
    presence.gate.set()
    await stuck
    assert rooms.members == {(slow.sid, SESSION), (quick.sid, SESSION)}


async def test_a_second_join_of_a_socket_waits_for_its_first_and_counts_it_once() -> None:
    presence = GatedPresence()
    use_cases, rooms, sequencer, _, _ = make(members={ANA.user_id}, presence=presence)
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    first = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await presence.adding.wait()
    again = asyncio.create_task(use_cases.join(socket, SESSION, None))
    await asyncio.sleep(0)
    presence.gate.set()
    await first
    answer = await again
    assert answer.presence == [{"userId": ANA.user_id, "userName": ANA.name}]
    assert [event for event, _ in rooms.signals] == ["userJoined"]
    await use_cases.leave(socket, SESSION)
    assert sequencer.rooms == 0 and [e for e, _ in rooms.signals] == ["userJoined", "userLeft"]


async def test_leaving_a_room_never_joined_changes_nothing() -> None:
    use_cases, rooms, _, _, _ = make(members={ANA.user_id})
    await use_cases.leave(Socket("sid-1", ANA), SESSION)
    assert rooms.signals == [] and rooms.members == set()


async def test_a_socket_closed_by_a_shutdown_leaves_its_room_but_stays_present_unannounced() -> (
    None
):
    use_cases, rooms, sequencer, _, presence = make(members={ANA.user_id})
    socket = Socket("sid-1", ANA)
    rooms.connected.add(socket.sid)
    await use_cases.join(socket, SESSION, None)
    await use_cases.leave_all(socket, announce=False)
    assert socket.sessions == set() and rooms.members == set() and sequencer.rooms == 0
    assert await presence.present(SESSION) == [{"userId": ANA.user_id, "userName": ANA.name}]
    assert [event for event, _ in rooms.signals] == ["userJoined"]


class ListedThenHeld(LocalPresence):
    """Presence that holds a join (but for users in `passing`) after its count-in and listing:
    a join that has its `present` and has not entered the room yet."""

    def __init__(self) -> None:
        super().__init__()
        self.listed = asyncio.Event()
        self.gate = asyncio.Event()
        self.passing: set[str] = set()

    async def enter(
        self, session_id: str, user_id: str, user_name: str, sid: str
    ) -> tuple[bool, list[dict[str, str]]]:
        answer = await super().enter(session_id, user_id, user_name, sid)
        if user_id not in self.passing:
            self.listed.set()
            await self.gate.wait()
        return answer


async def test_a_join_answers_present_a_user_who_joined_after_its_presence_read() -> None:
    presence = ListedThenHeld()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id, BEN.user_id}, presence=presence)
    ana, ben = Socket("sid-ana", ANA), Socket("sid-ben", BEN)
    rooms.connected.update({ana.sid, ben.sid})
    joining = asyncio.create_task(use_cases.join(ana, SESSION, None))
    await presence.listed.wait()  # Ana has her list (only herself), not in the room yet
    presence.passing.add(BEN.user_id)
    await use_cases.join(ben, SESSION, None)  # Ben's userJoined reaches a room without Ana
    presence.gate.set()

    joined = await joining

    assert [p["userId"] for p in joined.presence] == [ANA.user_id, BEN.user_id]


async def test_a_join_does_not_answer_present_a_user_who_left_after_its_presence_read() -> None:
    presence = ListedThenHeld()
    presence.passing.add(BEN.user_id)
    use_cases, rooms, _, _, _ = make(members={ANA.user_id, BEN.user_id}, presence=presence)
    ana, ben = Socket("sid-ana", ANA), Socket("sid-ben", BEN)
    rooms.connected.update({ana.sid, ben.sid})
    await use_cases.join(ben, SESSION, None)
    joining = asyncio.create_task(use_cases.join(ana, SESSION, None))
    await presence.listed.wait()  # Ana's list has Ben; she is not in the room yet
    await use_cases.leave(ben, SESSION)  # Ben's userLeft reaches a room without Ana
    presence.gate.set()

    joined = await joining

    assert [p["userId"] for p in joined.presence] == [ANA.user_id]


CY = Identity("u-cy", "cy@example.org", "Cy")


def told(event: str, who: Identity) -> tuple[str, str, str, dict[str, Any]]:
    """A presence signal of another process, as this process's room hears it (`heard`)."""
    data = {"sessionId": SESSION, "userId": who.user_id, "userName": who.name}
    return event, SESSION, who.user_id, data


async def test_a_join_answers_present_a_user_who_joined_on_another_process_after_its_read() -> None:
    presence = ListedThenHeld()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id}, presence=presence)
    ana = Socket("sid-ana", ANA)
    rooms.connected.add(ana.sid)
    joining = asyncio.create_task(use_cases.join(ana, SESSION, None))
    await presence.listed.wait()  # Ana has her list (only herself), not in the room yet
    use_cases.heard(*told("userJoined", BEN))  # Ben joined on another process
    presence.gate.set()

    joined = await joining

    assert joined.presence == [
        {"userId": ANA.user_id, "userName": ANA.name},
        {"userId": BEN.user_id, "userName": BEN.name},
    ]


async def test_a_join_applies_the_presence_changes_its_room_heard_in_the_order_heard() -> None:
    presence = ListedThenHeld()
    presence.passing.add(BEN.user_id)
    await presence.enter(SESSION, BEN.user_id, BEN.name, "sid-ben-elsewhere")
    use_cases, rooms, _, _, _ = make(members={ANA.user_id}, presence=presence)
    ana = Socket("sid-ana", ANA)
    rooms.connected.add(ana.sid)
    joining = asyncio.create_task(use_cases.join(ana, SESSION, None))
    await presence.listed.wait()  # Ana's list has Ben; she is not in the room yet
    for change in (  # heard from other processes
        told("userLeft", BEN),  # Ben left, and came back
        told("userJoined", BEN),
        told("userJoined", CY),  # Cy came, and left
        told("userLeft", CY),
    ):
        use_cases.heard(*change)
    presence.gate.set()

    joined = await joining

    assert [p["userId"] for p in joined.presence] == [ANA.user_id, BEN.user_id]


async def test_a_join_does_not_hear_its_own_users_presence_changes_as_its_room_skips_them() -> None:
    presence = ListedThenHeld()
    use_cases, rooms, _, _, _ = make(members={ANA.user_id}, presence=presence)
    ana = Socket("sid-ana", ANA)
    rooms.connected.add(ana.sid)
    joining = asyncio.create_task(use_cases.join(ana, SESSION, None))
    await presence.listed.wait()
    use_cases.heard(*told("userLeft", ANA))  # her entries on a dead process, reaped
    presence.gate.set()

    joined = await joining

    assert [p["userId"] for p in joined.presence] == [ANA.user_id]
