"""Two server processes on PostgreSQL and Redis behave as one: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth, require_service
from tests.e2e.clients import Peer, is_error
from tests.e2e.cluster import (
    ServerProcess,
    clear_redis,
    connect,
    eventually,
    eventually_equals,
    free_port,
    private_redis,
    start_redis,
    start_server,
    stop_redis,
    wait_ready,
)
from tests.support import Scenario, make_session

pytestmark = pytest.mark.redis
MEMBERS = ["ana", "bo", "cy", "di"]


@pytest.fixture
def shared_redis() -> Iterator[str]:
    require_service("Redis", 6379)
    url = "redis://127.0.0.1:6379/0"  # this run's keys only: REDIS_PREFIX (cluster.py)
    clear_redis(url)
    yield url
    clear_redis(url)


@pytest.fixture
def two_servers(
    postgres_url: str, shared_redis: str, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    a = start_server(postgres_url, shared_redis, tmp_path)
    b = start_server(postgres_url, shared_redis, tmp_path)
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
async def scenario(two_servers: tuple[ServerProcess, ServerProcess]) -> AsyncIterator[Scenario]:
    a, _ = two_servers
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as client:
        yield await make_session(client, MEMBERS, rounds=2)


async def test_a_vote_sent_to_one_process_reaches_clients_of_the_other(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    on_a = await connect(a.url, "ana")
    on_b = await connect(b.url, "bo")
    await on_a.join_ok(scenario.session_id)
    await on_b.join_ok(scenario.session_id)

    await scenario.advance(1, "VOTING")
    await scenario.submit("cy", 1, "PI_VOTE_SUBMIT", {"choice": "A"})

    for listener in (on_a, on_b):
        await eventually(lambda listener=listener: listener.seqs() == [2, 3])
    vote = on_b.of("vote.submitted")[0]
    assert vote["userId"] == "cy" and "choice" not in vote
    await on_a.disconnect()
    await on_b.disconnect()


async def test_presence_lists_the_users_of_both_processes_and_counts_tabs_across_them(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    ana_a = await connect(a.url, "ana")
    ana_b = await connect(b.url, "ana")
    bo_b = await connect(b.url, "bo")
    await bo_b.join_ok(scenario.session_id)
    await ana_a.join_ok(scenario.session_id)
    await ana_b.join_ok(scenario.session_id)

    async with httpx.AsyncClient(base_url=a.url) as client:
        await eventually_equals(lambda: _present(client, scenario), ["ana", "bo"])
    await eventually(lambda: [e["userId"] for e in bo_b.of("userJoined")] == ["ana"])
    await asyncio.sleep(0.3)  # a second userJoined would arrive now
    assert [e["userId"] for e in bo_b.of("userJoined")] == ["ana"]  # ana's 2nd tab: silent

    await ana_a.disconnect()
    await asyncio.sleep(0.3)
    assert bo_b.of("userLeft") == []  # ana still has a tab on process B
    await ana_b.disconnect()
    await eventually(lambda: [e["userId"] for e in bo_b.of("userLeft")] == ["ana"])
    await bo_b.disconnect()


async def _present(client: httpx.AsyncClient, scenario: Scenario) -> list[str]:
    response = await client.get(
        f"/group-sessions/{scenario.session_id}/presence", headers=auth("cy")
    )
    return [p["userId"] for p in response.json()["presence"]]


async def test_every_client_gets_every_seq_once_in_order_while_both_processes_take_writes(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    listeners = [await connect(server.url, user) for server in (a, b) for user in ("ana", "bo")]
    for listener in listeners:
        await listener.join_ok(scenario.session_id)
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=20) as to_a,
        httpx.AsyncClient(base_url=b.url, timeout=20) as to_b,
    ):
        posts = [
            (to_a if i % 2 else to_b).post(
                f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat",
                json={"round_index": 1, "message": f"message {i}"},
                headers=auth(MEMBERS[i % len(MEMBERS)]),
            )
            for i in range(40)
        ]
        responses = await asyncio.gather(*posts)
    assert all(r.status_code == 201 for r in responses)
    expected = list(range(2, 42))  # seq 1 is session.started

    for listener in listeners:
        await eventually(lambda listener=listener: len(listener.seqs()) >= len(expected))
    await asyncio.sleep(0.3)  # a duplicate would arrive now
    for listener in listeners:
        assert listener.seqs() == expected
        await listener.disconnect()


async def test_killing_a_process_makes_its_users_leave_and_its_clients_recover_on_the_other(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    ana = await connect(a.url, "ana")
    bo = await connect(b.url, "bo")
    await ana.join_ok(scenario.session_id)
    await bo.join_ok(scenario.session_id)
    await eventually(lambda: [e["userId"] for e in ana.of("userJoined")] == ["bo"])

    b.kill()
    for i in range(5):
        await scenario.chat("cy", f"while bo is away {i}")

    await eventually(lambda: [e["userId"] for e in ana.of("userLeft")] == ["bo"], timeout=15)
    last_seen = max(bo.seqs(), default=1)
    await bo.disconnect()
    back = await connect(a.url, "bo")
    ack = await back.join_ok(scenario.session_id, lastSeq=last_seen)
    assert [m["seq"] for m in ack["missed"]] == list(range(last_seen + 1, last_seen + 6))
    assert [m["data"]["message"] for m in ack["missed"]][-1] == "while bo is away 4"
    await eventually(lambda: ana.seqs() == list(range(2, last_seen + 6)), describe=ana.seqs)
    await ana.disconnect()
    await back.disconnect()


async def test_after_a_redis_outage_every_client_gets_what_it_missed_with_no_later_event(
    postgres_url: str, tmp_path: Path
) -> None:
    require_service("Redis", 6379)
    port = free_port()
    with private_redis(port) as first_redis:
        url = f"redis://127.0.0.1:{port}/0"
        a = start_server(postgres_url, url, tmp_path)
        b = start_server(postgres_url, url, tmp_path)
        try:
            await _outage_scenario(a, b, first_redis, port)
        finally:
            a.stop()
            b.stop()


async def _outage_scenario(
    a: ServerProcess, b: ServerProcess, first_redis: object, port: int
) -> None:
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as to_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as to_b,
    ):
        scenario = await make_session(to_a, MEMBERS)
        listeners: list[Peer] = [await connect(a.url, "ana"), await connect(b.url, "bo")]
        for listener in listeners:
            await listener.join_ok(scenario.session_id)
        await scenario.chat("cy", "before")

        stop_redis(first_redis)  # type: ignore[arg-type]
        await wait_ready(to_a, 503)
        await wait_ready(to_b, 503)
        b_scenario = Scenario(
            to_b, scenario.group_id, scenario.members, scenario.session_id, scenario.session
        )
        for i in range(3):
            await scenario.chat("cy", f"during A {i}")
            await b_scenario.chat("di", f"during B {i}")

        restarted = start_redis(port)
        try:
            await wait_ready(to_a, 200)
            await wait_ready(to_b, 200)
            # No event follows the outage: the processes fill their rooms from the log by
            # themselves (each one's last event during the outage reached only its own clients).
            await _all_get(listeners, list(range(2, 9)))  # before, 6 during (1 was before joining)
            await scenario.chat("cy", "after")
            await _all_get(listeners, list(range(2, 10)))
            for listener in listeners:
                await listener.disconnect()
            assert a.process.poll() is None and b.process.poll() is None
        finally:
            stop_redis(restarted)


async def _all_get(listeners: list[Peer], seqs: list[int]) -> None:
    for listener in listeners:
        await eventually(
            lambda listener=listener: listener.seqs() == seqs,
            timeout=15,
            describe=lambda listener=listener: f"{listener.label}: {listener.seqs()}",
        )


async def test_a_member_removed_through_one_process_stops_hearing_on_the_other_at_once(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    ana = await connect(a.url, "ana")
    bo = await connect(b.url, "bo")  # hears on cy's process: proves it has handled the chat
    cy_tabs = [await connect(b.url, "cy"), await connect(b.url, "cy")]
    for peer in (ana, bo, *cy_tabs):
        await peer.join_ok(scenario.session_id)

    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)
    await scenario.chat("ana", "cy cannot read this")

    await eventually(lambda: len(bo.of("chat.message")) == 1, describe=bo.names)
    for tab in cy_tabs:
        await tab.settle()
        assert tab.of("chat.message") == [], "cy still hears the session on the other process"
        assert tab.connected
    await eventually(lambda: [e["userId"] for e in ana.of("userLeft")] == ["cy"])
    assert is_error(await cy_tabs[0].join(scenario.session_id), "FORBIDDEN")
    for peer in (ana, bo, *cy_tabs):
        await peer.disconnect()


async def test_a_retry_with_the_same_key_on_the_other_process_gets_the_first_answer(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    path = f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat"

    def post(client: httpx.AsyncClient, key: str) -> Awaitable[httpx.Response]:
        body = {"round_index": 1, "message": f"sent with {key}"}
        return client.post(path, json=body, headers={**auth("bo"), "Idempotency-Key": key})

    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as to_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as to_b,
    ):
        first = await post(to_a, "retry")
        retry = await post(to_b, "retry")
        twins = await asyncio.gather(post(to_a, "twin"), post(to_b, "twin"))
        listed = await to_b.get(path, headers=auth("ana"))
        feed = await to_a.get(
            f"/group-sessions/{scenario.session_id}/feed?after_seq=0", headers=auth("ana")
        )

    assert first.status_code == 201, first.text
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert [t.status_code for t in twins] == [201, 201], [t.text for t in twins]
    assert twins[0].json() == twins[1].json()
    assert [m["id"] for m in listed.json()["messages"]] == [
        first.json()["id"],
        twins[0].json()["id"],
    ]
    chat_events = [e for e in feed.json()["events"] if e["event"] == "chat.message"]
    assert len(chat_events) == 2
