"""Ephemeral signals across two server processes (PostgreSQL + Redis): "to the others only"
holds on every process, and presence signals name their session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_service
from tests.e2e.cluster import ServerProcess, clear_redis, connect, eventually, start_server
from tests.support import Scenario, make_session

pytestmark = pytest.mark.redis


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    require_service("Redis", 6379)
    url = "redis://127.0.0.1:6379/0"  # this run's keys only: REDIS_PREFIX (cluster.py)
    clear_redis(url)
    a = start_server(postgres_url, url, tmp_path)
    b = start_server(postgres_url, url, tmp_path)
    yield a, b
    a.stop()
    b.stop()
    clear_redis(url)


@pytest.fixture
async def scenario(two_servers: tuple[ServerProcess, ServerProcess]) -> AsyncIterator[Scenario]:
    async with httpx.AsyncClient(base_url=two_servers[0].url, timeout=10) as client:
        yield await make_session(client, ["ana", "bo", "cy"])


async def test_a_users_typing_and_read_receipts_skip_their_own_tabs_on_the_other_process(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    ana_on_a = await connect(a.url, "ana")
    ana_on_b = await connect(b.url, "ana")
    bo_on_b = await connect(b.url, "bo")
    for peer in (ana_on_a, ana_on_b, bo_on_b):
        await peer.join_ok(scenario.session_id)
    message = (await scenario.chat("cy", "read me")).json()

    typed = await ana_on_a.call("typing", {"sessionId": scenario.session_id, "isTyping": True})
    read = await ana_on_a.call(
        "markRead", {"sessionId": scenario.session_id, "messageId": message["id"]}
    )
    [typing] = await bo_on_b.wait_for("chat.typing")
    [receipt] = await bo_on_b.wait_for("chat.read")
    # Process B delivered both to its sockets of the room at once: what ana's tab there was
    # sent has arrived once its own round trip is back.
    await ana_on_b.settle()
    await ana_on_a.settle()

    assert typed == {"success": True}
    assert read["success"] is True
    assert (typing["userId"], typing["sessionId"], typing["isTyping"]) == (
        "ana",
        scenario.session_id,
        True,
    )
    assert (receipt["userId"], receipt["messageId"]) == ("ana", message["id"])
    assert ana_on_b.of("chat.typing") == [] and ana_on_b.of("chat.read") == []
    assert ana_on_a.of("chat.typing") == [] and ana_on_a.of("chat.read") == []
    for peer in (ana_on_a, ana_on_b, bo_on_b):
        await peer.disconnect()


async def test_the_user_left_announced_for_a_killed_process_names_the_session(
    two_servers: tuple[ServerProcess, ServerProcess], scenario: Scenario
) -> None:
    a, b = two_servers
    ana = await connect(a.url, "ana")
    bo = await connect(b.url, "bo")
    await ana.join_ok(scenario.session_id)
    await bo.join_ok(scenario.session_id)
    [joined] = await ana.wait_for("userJoined")

    b.kill()
    await eventually(lambda: len(ana.of("userLeft")) == 1, timeout=15)

    [left] = ana.of("userLeft")
    assert (joined["userId"], joined["sessionId"]) == ("bo", scenario.session_id)
    assert (left["userId"], left["sessionId"]) == ("bo", scenario.session_id)
    await ana.disconnect()
    await bo.disconnect()


async def test_a_process_restarted_gracefully_is_no_one_leaving_and_who_stays_away_leaves_later(
    postgres_url: str, tmp_path: Path
) -> None:
    require_service("Redis", 6379)
    url = "redis://127.0.0.1:6379/0"
    clear_redis(url)
    ttl = {"PRESENCE_TTL_SECONDS": "8"}  # time enough to restart a process and come back
    a = start_server(postgres_url, url, tmp_path, **ttl)
    b = start_server(postgres_url, url, tmp_path, **ttl)
    try:
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as client:
            scenario = await make_session(client, ["ana", "bo", "cy"])
        ana = await connect(a.url, "ana")
        bo, cy = await connect(b.url, "bo"), await connect(b.url, "cy")
        for peer in (ana, bo, cy):
            await peer.join_ok(scenario.session_id)
        await eventually(lambda: len(ana.of("userJoined")) == 2)

        b.stop()  # SIGTERM: a deploy
        b = start_server(postgres_url, url, tmp_path, **ttl)
        bo_back = await connect(b.url, "bo")  # cy does not come back
        ack = await bo_back.join_ok(scenario.session_id)
        assert {p["userId"] for p in ack["presence"]} == {"ana", "bo", "cy"}  # cy's entry: TTL

        await eventually(lambda: len(ana.of("userLeft")) == 1, timeout=20)
        assert [e["userId"] for e in ana.of("userLeft")] == ["cy"]
        assert [e["userId"] for e in ana.of("userJoined")] == ["bo", "cy"]  # bo: not again
        for peer in (ana, bo, cy, bo_back):
            await peer.disconnect()
    finally:
        a.stop()
        b.stop()
        clear_redis(url)
