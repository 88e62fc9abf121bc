"""/metrics reports connections, rooms, events emitted and HTTP latency in Prometheus text."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer
from tests.e2e.cluster import connect
from tests.support import make_session


def sample(text: str, name: str) -> float:
    """The value of the first sample line of `name` (labels allowed)."""
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_metrics_count_connections_rooms_emitted_events_and_http_latency(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"], start=False)
    listener = await connect(server.url, "bo")
    await listener.join_ok(scenario.session_id)
    await scenario.start()

    text = (await rest.get("/metrics")).text

    assert sample(text, "studygroups_socket_connections") == 1
    assert sample(text, "studygroups_session_rooms") == 1
    assert sample(text, 'studygroups_events_emitted_total{event="session.started"}') == 1
    assert sample(text, "studygroups_http_request_seconds_count") >= 1
    await listener.disconnect()
