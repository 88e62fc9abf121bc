"""Ordering and recovery: seq without gaps or duplicates under concurrent writes, and a rejoin
with lastSeq that returns exactly what was missed (or asks for a resync when too far behind)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import httpx

from studygroups.domain.events import PromptUpdated
from tests.conftest import LiveServer
from tests.e2e.clients import DURABLE_EVENTS, Peer, Peers
from tests.support import Scenario, make_session


async def _chats(scenario: Scenario, count: int, prefix: str = "m") -> None:
    for n in range(count):
        await scenario.chat(scenario.members[n % len(scenario.members)], f"{prefix}{n}")


def _stored_shape(item: dict[str, Any]) -> None:
    assert set(item) == {"seq", "event", "data", "created_at"}, item
    assert item["data"]["seq"] == item["seq"]


async def test_a_rejoin_with_last_seq_returns_exactly_the_events_after_it(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, ["ana", "bo"])
    ana = await live_peers.joined("ana", scenario.session_id)
    bo = await live_peers.joined("bo", scenario.session_id)
    await _chats(scenario, 2, "before")
    await bo.wait_for("chat.message", 2)
    last_seen = bo.seqs()[-1]

    await bo.disconnect()
    await _chats(scenario, 3, "while away")
    await scenario.advance(1, "VOTING")
    await ana.wait_for("round.advanced")
    back = await live_peers.connect("bo", label="bo-back")
    away = [(name, data) for name, data in ana.durable() if data["seq"] > last_seen]
    ack = await back.join_ok(scenario.session_id, lastSeq=last_seen)
    await scenario.chat("ana", "after return")
    await back.wait_for("chat.message")

    missed = ack["missed"]
    for item in missed:
        _stored_shape(item)
    assert [(item["event"], item["data"]) for item in missed] == away
    assert [item["seq"] for item in missed] == list(range(last_seen + 1, last_seen + 5))
    assert ack["seq"] == last_seen + 4
    assert "resync" not in ack
    assert back.seqs() == [last_seen + 5], "the live stream must continue right after missed"


async def test_last_seq_zero_replays_the_whole_log(peers: Peers, rest: httpx.AsyncClient) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    await _chats(scenario, 3)

    ack = await (await peers.connect("bo")).join_ok(scenario.session_id, lastSeq=0)

    feed = await scenario.call("GET", f"/group-sessions/{scenario.session_id}/feed", "bo")
    assert [item["seq"] for item in ack["missed"]] == [1, 2, 3, 4]
    assert ack["missed"] == feed.json()["events"]


async def test_a_client_that_is_up_to_date_misses_nothing(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    await _chats(scenario, 2)

    ack = await (await peers.connect("bo")).join_ok(scenario.session_id, lastSeq=3)

    assert ack["missed"] == []
    assert ack.get("resync", False) is False


async def _log_events(live: LiveServer, session_id: str, round_id: str, count: int) -> None:
    """A long session in one go: `count` prompt edits written straight into the session's log."""
    events = [
        PromptUpdated(session_id, round_id=round_id, round_index=1, prompt=f"v{n}", options=None)
        for n in range(count)
    ]
    async with live.service.units() as uow:
        await uow.record(session_id, *events)
        await uow.commit()


async def test_a_client_a_thousand_events_behind_gets_them_all_and_one_more_asks_for_resync(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    assert scenario.session is not None
    await _log_events(peers.live, scenario.session_id, scenario.session["rounds"][0]["id"], 1000)
    bo = await peers.connect("bo")

    exactly = await bo.join_ok(scenario.session_id, lastSeq=1)
    beyond = await bo.join_ok(scenario.session_id, lastSeq=0)

    assert exactly["seq"] == 1001
    assert [item["seq"] for item in exactly["missed"]] == list(range(2, 1002))
    assert "resync" not in exactly
    assert beyond["resync"] is True
    assert beyond["seq"] == 1001


async def test_a_last_seq_ahead_of_the_log_asks_for_resync(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])

    ack = await (await peers.connect("bo")).join_ok(scenario.session_id, lastSeq=50)

    assert ack["resync"] is True
    assert ack["seq"] == 1


async def _racing_writes(scenario: Scenario, count: int) -> None:
    """`count` REST writes at once from every member: chat, prompt edits."""
    sid = scenario.session_id
    calls = []
    for n in range(count):
        if n % 4 == 3:
            calls.append(
                scenario.call(
                    "PATCH",
                    f"/group-sessions/{sid}/rounds/1/prompt",
                    scenario.facilitator,
                    {"prompt_text": f"prompt {n}"},
                    expect=200,
                )
            )
        else:
            calls.append(scenario.chat(scenario.members[n % len(scenario.members)], f"race {n}"))
    await asyncio.gather(*calls)


async def test_every_socket_gets_each_seq_once_in_order_while_writes_race(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, ["ana", "bo", "cy"])
    sockets = [
        await live_peers.joined(user, scenario.session_id, label=label)
        for user, label in [("ana", "ana"), ("bo", "bo"), ("bo", "bo-tab2"), ("cy", "cy")]
    ]
    writes = 16

    await _racing_writes(scenario, writes)
    for peer in sockets:
        await peer.wait_for_durable(writes)
        await peer.settle()

    expected = list(range(2, 2 + writes))
    for peer in sockets:
        assert peer.seqs() == expected, f"{peer.label} got {peer.seqs()}"


async def test_a_socket_joining_while_writes_race_gets_each_seq_once_and_in_order(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    """Joiners replay from seq 1 at staggered moments of a burst of writes. In the order things
    arrive (live events before the ack, the ack's missed, live events after it) each socket sees
    every seq once, ascending: no live event overtakes the replay."""
    late_users = ["bo", "cy", "di", "ed", "fay", "gus", "hal"]
    scenario = await make_session(live_rest, ["ana", *late_users])
    ana = await live_peers.joined("ana", scenario.session_id)
    joiners = [await live_peers.connect(user) for user in late_users]
    writes = 21
    last = 1 + writes

    async def join_after(peer: Peer, heard: int) -> tuple[dict[str, Any], int]:
        """Join (replaying from seq 1) once ana has heard `heard` of the racing writes."""
        await ana.wait_for_durable(heard)
        ack, before = await peer.call_marked(
            "joinSession", {"sessionId": scenario.session_id, "lastSeq": 1}
        )
        assert ack["success"] is True, ack
        return ack, before

    _, *joined = await asyncio.gather(
        _racing_writes(scenario, writes),
        *(join_after(peer, 3 * n) for n, peer in enumerate(joiners)),
    )
    for peer, (ack, _) in zip(joiners, joined, strict=True):
        await peer.wait_until(partial(_heard_up_to, peer, ack, last), f"seq {last}")
        await peer.settle()

    for peer, (ack, before) in zip(joiners, joined, strict=True):
        early = [int(data["seq"]) for name, data in peer.events[:before] if name in DURABLE_EVENTS]
        late = [int(data["seq"]) for name, data in peer.events[before:] if name in DURABLE_EVENTS]
        replayed = [item["seq"] for item in ack["missed"]]
        arrival = early + replayed + late
        assert arrival == list(range(2, last + 1)), (
            f"{peer.label}: live {early}, then the ack's missed {replayed}, then live {late}"
        )


def _heard_up_to(peer: Peer, ack: dict[str, Any], seq: int) -> bool:
    """Whether the peer has `seq`, in its join ack or live."""
    return max([int(ack["seq"]), *peer.seqs()]) >= seq
