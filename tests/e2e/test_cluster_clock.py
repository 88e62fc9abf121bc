"""The phase clock across real processes on PostgreSQL and Redis: each deadline fires exactly
once, whichever processes are up, killed or restarted."""

from __future__ import annotations

import asyncio
import re
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.e2e.cluster import ServerProcess, eventually_equals, start_server
from tests.e2e.test_cluster import shared_redis
from tests.support import Scenario, make_session

__all__ = ["shared_redis"]  # the fixture: a flushed Redis database

pytestmark = pytest.mark.redis
MEMBERS = ["ana", "bo", "cy"]  # FACILITATOR, SCRIBE, TIMEKEEPER
FIRED = re.compile(r"^studygroups_round_time_up_total (\S+)$", re.MULTILINE)


async def _timed_session(client: httpx.AsyncClient) -> Scenario:
    scenario = await make_session(client, MEMBERS)
    await scenario.advance(1, "VOTING")
    return scenario


async def _set_timer(scenario: Scenario, seconds: int) -> None:
    await scenario.call(
        "POST",
        f"/group-sessions/{scenario.session_id}/rounds/1/timer",
        "cy",
        {"action": "set", "seconds": seconds},
        expect=200,
    )


async def _time_ups(scenario: Scenario) -> int:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/feed", "ana", expect=200
    )
    return sum(1 for e in response.json()["events"] if e["event"] == "round.timeUp")


async def _timer_state(scenario: Scenario) -> str:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}", "ana", expect=200
    )
    state: str = response.json()["rounds"][0]["timer"]["state"]
    return state


async def _fired_by(server: ServerProcess) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    found = FIRED.search(text)
    return float(found.group(1)) if found else 0.0


async def test_twenty_deadlines_expiring_together_on_two_processes_fire_exactly_twenty_time_ups(
    postgres_url: str, shared_redis: str, tmp_path: Path
) -> None:
    a = start_server(postgres_url, shared_redis, tmp_path)
    b = start_server(postgres_url, shared_redis, tmp_path)
    try:
        async with (
            httpx.AsyncClient(base_url=a.url, timeout=30) as on_a,
            httpx.AsyncClient(base_url=b.url, timeout=30) as on_b,
        ):
            sessions = [await _timed_session(on_a if n % 2 else on_b) for n in range(20)]
            await asyncio.gather(*(_set_timer(s, 2) for s in sessions))

            for scenario in sessions:
                await eventually_equals(partial(_timer_state, scenario), "EXPIRED")
            counts = [await _time_ups(s) for s in sessions]

        assert counts == [1] * 20
        assert await _fired_by(a) + await _fired_by(b) == 20
    finally:
        a.stop()
        b.stop()


async def test_a_deadline_of_a_process_killed_just_before_it_is_fired_once_by_the_other(
    postgres_url: str, shared_redis: str, tmp_path: Path
) -> None:
    a = start_server(postgres_url, shared_redis, tmp_path)
    b = start_server(postgres_url, shared_redis, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=a.url, timeout=30) as on_a:
            scenario = await _timed_session(on_a)
            await _set_timer(scenario, 2)  # set through the process about to die
            a.kill()
        async with httpx.AsyncClient(base_url=b.url, timeout=30) as on_b:
            scenario.http = on_b
            await eventually_equals(lambda: _timer_state(scenario), "EXPIRED")

            assert await _time_ups(scenario) == 1
        assert await _fired_by(b) == 1
    finally:
        a.stop()
        b.stop()


async def test_a_deadline_that_passed_while_every_process_was_down_fires_once_after_restart(
    postgres_url: str, shared_redis: str, tmp_path: Path
) -> None:
    a = start_server(postgres_url, shared_redis, tmp_path)
    b = start_server(postgres_url, shared_redis, tmp_path)
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as on_a:
        scenario = await _timed_session(on_a)
        await _set_timer(scenario, 1)
        a.kill()
        b.kill()
    await asyncio.sleep(1.2)  # the deadline passes while nothing runs

    a = start_server(postgres_url, shared_redis, tmp_path)
    b = start_server(postgres_url, shared_redis, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=b.url, timeout=30) as on_b:
            scenario.http = on_b
            await eventually_equals(lambda: _timer_state(scenario), "EXPIRED")

            assert await _time_ups(scenario) == 1
        assert await _fired_by(a) + await _fired_by(b) == 1
    finally:
        a.stop()
        b.stop()
