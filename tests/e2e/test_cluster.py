"""Two server processes on PostgreSQL and Redis behave as one: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import auth, require_service
from tests.e2e.clients import Peer
from tests.e2e.cluster import (
    ServerProcess,
    connect,
    eventually,
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
    url = "redis://127.0.0.1:6379/13"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


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

    await eventually(lambda: len(on_b.of("vote.submitted")) == 1)
    vote = on_b.of("vote.submitted")[0]
    assert vote["userId"] == "cy" and "choice" not in vote
    assert on_a.seqs() == on_b.seqs() == [2, 3]
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
    await asyncio.sleep(0.3)  # a second userJoined would arrive now

    async with httpx.AsyncClient(base_url=a.url) as client:
        response = await client.get(
            f"/group-sessions/{scenario.session_id}/presence", headers=auth("cy")
        )
    assert [p["userId"] for p in response.json()["presence"]] == ["ana", "bo"]
    assert [e["userId"] for e in bo_b.of("userJoined")] == ["ana"]  # ana's 2nd tab: silent

    await ana_a.disconnect()
    await asyncio.sleep(0.3)
    assert bo_b.of("userLeft") == []  # ana still has a tab on process B
    await ana_b.disconnect()
    await eventually(lambda: [e["userId"] for e in bo_b.of("userLeft")] == ["ana"])
    await bo_b.disconnect()


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
    assert ana.seqs() == list(range(2, last_seen + 6))
    await ana.disconnect()
    await back.disconnect()


async def test_a_redis_outage_crashes_nothing_and_every_client_ends_with_every_event(
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
            await scenario.chat("cy", "after")
            expected = list(range(2, 10))  # before, 6 during, after (1 came before joining)
            for listener in listeners:
                await eventually(
                    lambda listener=listener: listener.seqs() == expected,
                    timeout=15,
                    describe=lambda listener=listener: listener.seqs(),
                )
                await listener.disconnect()
            assert a.process.poll() is None and b.process.poll() is None
        finally:
            stop_redis(restarted)
