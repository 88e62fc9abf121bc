"""Two server processes on PostgreSQL and Redis: JSON and msgpack clients spread over both hear
the same events with the same seq (a Redis message carries no parser: each process encodes for
its own sockets), and each process logs which parser a client connected with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from tests.conftest import LiveServer
from tests.e2e.cluster import ServerProcess
from tests.e2e.test_cluster import shared_redis, two_servers
from tests.e2e.test_interop_node import node_binary, node_client
from tests.support import make_session

pytestmark = [pytest.mark.redis, pytest.mark.node]
__all__ = ["shared_redis", "two_servers"]  # fixtures, used by name


@pytest.fixture(autouse=True)
def _node_installed() -> None:
    node_binary()


async def test_json_and_msgpack_clients_on_two_processes_hear_the_same_events_in_order(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = two_servers
    on_a, on_b = cast(LiveServer, a), cast(LiveServer, b)  # node_client reads only `url`
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as rest:
        scenario = await make_session(rest, ["ana", "bo", "cy", "di"], rounds=2)
        session = scenario.session_id
        async with (
            node_client(on_a, user="bo", session_id=session) as bo_json_a,
            node_client(on_b, user="cy", session_id=session, parser="msgpack") as cy_msgpack_b,
            node_client(
                on_a, user="di", session_id=session, parser="msgpack", transports="polling"
            ) as di_msgpack_a,
        ):
            clients = (bo_json_a, cy_msgpack_b, di_msgpack_a)
            for client in clients:
                await client.wait_for("joined")
            await scenario.run_round(1)
            for n in range(5):
                await scenario.chat("ana", f"message {n}")
            response = await scenario.call(
                "GET", f"/group-sessions/{session}/feed", scenario.owner, expect=200
            )
            feed: list[dict[str, Any]] = response.json()["events"]
            for client in clients:
                await client.applied_up_to(feed[-1]["seq"])
            reports = [await client.report() for client in clients]

    expected = [(e["seq"], e["event"], e["data"]) for e in feed if e["seq"] > 1]
    heard = [[(x["seq"], x["event"], x["data"]) for x in r["applied"]] for r in reports]
    assert heard == [expected, expected, expected]
    assert [r["binaryMessages"] > 0 for r in reports] == [False, True, True]
    assert "User: cy, parser: msgpack" in Path(b.log).read_text()
    assert "User: bo, parser: json" in Path(a.log).read_text()
