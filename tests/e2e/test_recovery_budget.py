"""Recovery in sessions of large events: a join ack's `missed` is bounded by bytes as well as by
count, so a client that rejoins far behind always gets an answer it can receive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from studygroups.app import build
from studygroups.domain.events import PromptUpdated
from studygroups.domain.rounds import OPTION_MAX, OPTIONS_MAX, PROMPT_MAX
from tests.conftest import LiveServer, make_settings, serve
from tests.e2e.clients import Peers
from tests.e2e.test_metrics import sample
from tests.support import Scenario, make_session

# The largest prompt the REST API accepts: ~12 KB as a stored event.
PROMPT_TEXT = "p" * PROMPT_MAX
OPTIONS = [f"{n:02d}" + "o" * (OPTION_MAX - 2) for n in range(OPTIONS_MAX)]
SMALL_BUDGET = 60_000  # bytes: four of those events fit, five do not


@pytest.fixture
async def small_budget(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A live server whose join acks replay at most SMALL_BUDGET bytes (REPLAY_MAX_BYTES)."""
    service = build(make_settings(sqlite_url, tmp_path, replay_max_bytes=SMALL_BUDGET))
    try:
        async with serve(service) as live:
            yield live
    finally:
        await service.database.dispose()


async def _big_session(rest: httpx.AsyncClient) -> Scenario:
    scenario = await make_session(rest, ["ana", "bo"])
    facilitator = scenario.facilitator
    path = f"/group-sessions/{scenario.session_id}/rounds/1/prompt"
    body = {"prompt_text": PROMPT_TEXT, "options": OPTIONS}
    await scenario.call("PATCH", path, facilitator, body, expect=200)  # seq 2
    return scenario


async def _more_big_prompts(live: LiveServer, scenario: Scenario, count: int) -> None:
    """`count` more edits of the largest prompt, written straight into the session's log (as
    `count` PATCHes would, faster)."""
    assert scenario.session is not None
    round_id = scenario.session["rounds"][0]["id"]
    events = [
        PromptUpdated(
            scenario.session_id,
            round_id=round_id,
            round_index=1,
            prompt=PROMPT_TEXT,
            options=OPTIONS,
        )
        for _ in range(count)
    ]
    async with live.service.units() as uow:
        await uow.record(scenario.session_id, *events)
        await uow.commit()


async def test_a_rejoin_a_thousand_large_events_behind_is_told_to_resync_and_stays_connected(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await _big_session(rest)
    await _more_big_prompts(peers.live, scenario, 999)  # seq 3..1001: ~12 MB in all
    bo = await peers.connect("bo")

    ack = await bo.join_ok(scenario.session_id, lastSeq=1)
    await scenario.chat("ana", "still here?")
    [live] = await bo.wait_for("chat.message")

    assert ack["resync"] is True
    assert ack["missed"] == []
    assert ack["seq"] == 1001
    assert live["seq"] == 1002
    assert bo.connected
    metrics = (await rest.get("/metrics")).text
    assert sample(metrics, "studygroups_replay_over_budget_total") == 1


async def test_a_rejoin_within_the_byte_budget_replays_large_events_and_one_more_asks_for_resync(
    small_budget: LiveServer,
) -> None:
    peers = Peers(small_budget)
    async with httpx.AsyncClient(base_url=small_budget.url, timeout=30) as rest:
        scenario = await _big_session(rest)
        await _more_big_prompts(small_budget, scenario, 3)  # seq 2..5: four large events
        try:
            bo = await peers.connect("bo")
            within = await bo.join_ok(scenario.session_id, lastSeq=1)
            await _more_big_prompts(small_budget, scenario, 1)  # seq 6: a fifth
            beyond = await bo.join_ok(scenario.session_id, lastSeq=1)
            last_four = await bo.join_ok(scenario.session_id, lastSeq=2)
        finally:
            await peers.close()

    assert [item["seq"] for item in within["missed"]] == [2, 3, 4, 5]
    assert sum(len(orjson.dumps(item)) for item in within["missed"]) <= SMALL_BUDGET
    assert "resync" not in within
    assert beyond["resync"] is True
    assert beyond["missed"] == []
    assert beyond["seq"] == 6
    assert [item["seq"] for item in last_four["missed"]] == [3, 4, 5, 6]
