"""What a join ack may replay: every event after lastSeq while they fit the count and the byte
budget, and a resync (with nothing replayed) past either."""

from __future__ import annotations

import httpx
import orjson

from studygroups.app import Service
from studygroups.services.feed import EventFeed
from tests.support import make_session


async def _chat_ten(http: httpx.AsyncClient) -> str:
    scenario = await make_session(http, ["ana", "bo"])
    for n in range(10):
        await scenario.chat("bo", f"message {n} " + "é" * (40 * n))  # sizes differ; not ASCII
    return scenario.session_id


async def test_a_replay_that_fits_the_budget_to_the_byte_is_returned_whole(
    service: Service, http: httpx.AsyncClient
) -> None:
    session_id = await _chat_ten(http)
    feed = EventFeed(service.units)
    everything = await feed.replay(session_id, 0, 11, max_events=1000, max_bytes=10**9)
    size = sum(len(orjson.dumps(event.as_json())) for event in everything.events)

    exact = await feed.replay(session_id, 0, 11, max_events=1000, max_bytes=size)
    short = await feed.replay(session_id, 0, 11, max_events=1000, max_bytes=size - 1)

    assert [event.seq for event in exact.events] == list(range(1, 12))
    assert exact.resync is None
    assert short.events == []
    assert short.resync == "bytes"


async def test_a_replay_past_the_count_or_ahead_of_the_log_is_a_resync(
    service: Service, http: httpx.AsyncClient
) -> None:
    session_id = await _chat_ten(http)
    feed = EventFeed(service.units)

    at_count = await feed.replay(session_id, 1, 11, max_events=10, max_bytes=10**9)
    past_count = await feed.replay(session_id, 0, 11, max_events=10, max_bytes=10**9)
    ahead = await feed.replay(session_id, 12, 11, max_events=10, max_bytes=10**9)

    assert [event.seq for event in at_count.events] == list(range(2, 12))
    assert (past_count.events, past_count.resync) == ([], "count")
    assert (ahead.events, ahead.resync) == ([], "ahead")
