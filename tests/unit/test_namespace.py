"""The gateway (realtime/namespace.py) as a process of a cluster sees it: presence signals that
arrive as internal messages, from another process or from this one, while a join is between
its presence read and entering the room. Real server and manager, fake log and presence."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from studygroups.identity import Identity
from studygroups.metrics import Metrics
from studygroups.realtime.admission import Admission
from studygroups.realtime.inbound import InboundGate, InboundLimits
from studygroups.realtime.managers import LocalManager
from studygroups.realtime.namespace import SETTLING_COUNT, SETTLING_SECONDS, Gateway
from studygroups.realtime.publisher import NAMESPACE, SIGNAL, Sequencer
from studygroups.realtime.registry import Client
from studygroups.realtime.server import build_server
from tests.unit.test_rooms import ANA, BEN, SESSION, FakeFeed, ListedThenHeld


class Process:
    """One process: its Socket.IO server on the in-memory manager, and its gateway."""

    def __init__(self, presence: ListedThenHeld, members: set[str]) -> None:
        metrics = Metrics()
        feed = FakeFeed(head=7, members=members)
        self.admission = Admission(hold_seconds=30)
        self.manager = LocalManager()
        self.server = build_server(
            self.manager, [], InboundGate(InboundLimits(100.0, 100, 100), metrics)
        )
        self.gateway = Gateway(
            jwt_secret="s" * 32,
            units=None,  # type: ignore[arg-type]  # joins and signals never write
            feed=feed,  # type: ignore[arg-type]
            users=None,  # type: ignore[arg-type]  # no CONNECT here: sockets are added below
            presence=presence,
            sequencer=Sequencer(feed, metrics),  # type: ignore[arg-type]
            metrics=metrics,
            replay_limit=10,
            replay_max_bytes=1000,
            max_sockets_per_user=5,
            admission=self.admission,
        )
        self.server.register_namespace(self.gateway)
        self.manager.on_internal = self.gateway.on_internal

    async def connected(self, identity: Identity) -> Client:
        """A socket of `identity` connected to the namespace (its CONNECT done)."""
        sid = await self.manager.connect(f"eio-{identity.user_id}", NAMESPACE)
        return self.gateway._clients.add(sid, identity)

    async def join(self, client: Client) -> dict[str, Any]:
        ack: dict[str, Any] = await self.gateway.on_joinSession(
            client.sid, client, {"sessionId": SESSION}
        )
        return ack


def from_another_process(event: str, who: Identity) -> dict[str, Any]:
    """A signal as another process's `Gateway.signal` sends it to every process."""
    data = {
        "sessionId": SESSION,
        "userId": who.user_id,
        "userName": who.name,
        "timestamp": "2026-01-01T00:00:00.000Z",
    }
    return {"event": event, "sessionId": SESSION, "userId": who.user_id, "data": data}


async def test_a_user_joined_on_another_process_during_a_join_is_in_its_answer() -> None:
    presence = ListedThenHeld()
    process = Process(presence, members={ANA.user_id})
    ana = await process.connected(ANA)
    joining = asyncio.create_task(process.join(ana))
    await presence.listed.wait()  # Ana has her list (only herself), not in the room yet

    await process.gateway.on_internal(SIGNAL, from_another_process("userJoined", BEN))
    presence.gate.set()
    ack = await joining

    assert ack["success"] is True
    assert [p["userId"] for p in ack["presence"]] == [ANA.user_id, BEN.user_id]


async def test_a_user_who_left_on_another_process_during_a_join_is_not_in_its_answer() -> None:
    presence = ListedThenHeld()
    presence.passing.add(BEN.user_id)
    await presence.enter(SESSION, BEN.user_id, BEN.name, "sid-ben-elsewhere")  # Ben, listed
    process = Process(presence, members={ANA.user_id})
    ana = await process.connected(ANA)
    joining = asyncio.create_task(process.join(ana))
    await presence.listed.wait()  # Ana's list has Ben; she is not in the room yet

    await process.gateway.on_internal(SIGNAL, from_another_process("userLeft", BEN))
    presence.gate.set()
    ack = await joining

    assert [p["userId"] for p in ack["presence"]] == [ANA.user_id]


async def test_a_user_who_joined_on_this_process_during_a_join_is_in_its_answer() -> None:
    presence = ListedThenHeld()
    presence.passing.add(BEN.user_id)
    process = Process(presence, members={ANA.user_id, BEN.user_id})
    ana, ben = await process.connected(ANA), await process.connected(BEN)
    joining = asyncio.create_task(process.join(ana))
    await presence.listed.wait()  # Ana has her list (only herself)

    await process.join(ben)  # its userJoined goes to every process as an internal message
    presence.gate.set()
    ack = await joining

    assert [p["userId"] for p in ack["presence"]] == [ANA.user_id, BEN.user_id]


async def test_the_gateway_is_settling_while_many_joins_are_in_progress_and_not_after() -> None:
    presence = ListedThenHeld()
    process = Process(presence, members={f"user-{i}" for i in range(SETTLING_COUNT)})
    people = [
        Identity(f"user-{i}", f"u{i}@example.org", f"User {i}") for i in range(SETTLING_COUNT)
    ]
    clients = [await process.connected(person) for person in people]
    assert not process.gateway.settling()  # connected without CONNECTs of late: calm

    joining = [asyncio.create_task(process.join(client)) for client in clients]
    while process.gateway._rooms.joining < SETTLING_COUNT:
        await asyncio.sleep(0)
    assert process.gateway.settling()
    presence.gate.set()
    await asyncio.gather(*joining)

    assert not process.gateway.settling()


async def test_a_new_clients_first_join_gives_its_place_to_the_next_arriving_client() -> None:
    presence = ListedThenHeld()
    process = Process(presence, members={ANA.user_id})
    process.admission.places = 1
    process.admission.hold(f"eio-{ANA.user_id}")  # her upgrade took the one place
    let_in: list[str] = []

    def next_upgrade() -> bool:
        let_in.append("next")
        return True

    process.admission.wait(next_upgrade)
    ana = await process.connected(ANA)
    assert process.gateway.settling()  # an upgrade waits to be let in

    joining = asyncio.create_task(process.join(ana))
    await asyncio.sleep(0)
    assert let_in == []  # her join is in progress: the place is still hers
    presence.gate.set()
    ack = await joining

    assert ack["success"]
    assert let_in == ["next"]
    assert process.admission.held == 0
    assert not process.gateway.settling()


async def refused_connects(gateway: Gateway, count: int) -> None:
    for i in range(count):
        with pytest.raises(socketio.exceptions.ConnectionRefusedError):
            await gateway.on_connect(f"sid-{i}", {}, {"token": "not a token"})


async def test_a_burst_of_connects_refused_ones_included_is_settling_until_it_is_over() -> None:
    gateway = Process(ListedThenHeld(), members=set()).gateway

    await refused_connects(gateway, SETTLING_COUNT)

    assert gateway.settling()
    await asyncio.sleep(SETTLING_SECONDS + 0.05)
    assert not gateway.settling()


async def test_a_trickle_of_connects_is_not_settling() -> None:
    gateway = Process(ListedThenHeld(), members=set()).gateway

    await refused_connects(gateway, SETTLING_COUNT - 1)

    assert not gateway.settling()
