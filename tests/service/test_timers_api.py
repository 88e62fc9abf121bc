"""Phase deadlines over REST: per-round timers, the timer object, timer actions, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from studygroups.app import Service, build
from tests.conftest import auth, make_settings
from tests.service.observe import ISO_UTC_MILLIS, feed_events, round_of
from tests.support import Scenario, make_session

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MEMBERS = ["ana", "bo", "cy", "dee"]  # FACILITATOR, SCRIBE, TIMEKEEPER, CLARIFIER


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def pass_(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def service(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Service]:
    built = build(make_settings(database_url, tmp_path), clock=clock)
    yield built
    await built.database.dispose()


def _timer_path(scenario: Scenario, round_index: int = 1) -> str:
    return f"/group-sessions/{scenario.session_id}/rounds/{round_index}/timer"


async def _detail(scenario: Scenario, user: str = "ana") -> dict[str, Any]:
    response = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", user)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _timer(scenario: Scenario, body: dict[str, Any], user: str = "ana") -> httpx.Response:
    return await scenario.call("POST", _timer_path(scenario), user, body)


async def test_entering_a_timed_phase_sets_its_deadline_and_round_advanced_carries_it(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, MEMBERS)

    answer = (await scenario.advance(1, "VOTING")).json()

    assert answer["timer"] == {
        "state": "RUNNING",
        "ends_at": "2026-11-30T10:01:00.000Z",
        "remaining_sec": 60,
    }
    advanced = (await feed_events(scenario))[-1]
    assert advanced["event"] == "round.advanced"
    assert (advanced["data"]["endsAt"], advanced["data"]["durationSec"]) == (
        "2026-11-30T10:01:00.000Z",
        60,
    )
    assert advanced["data"]["auto"] is False
    detail = await _detail(scenario, "dee")
    assert ISO_UTC_MILLIS.match(detail["server_time"])
    assert detail["auto_advance"] is False


async def test_prompt_timers_set_the_seconds_of_the_phases_a_round_enters(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.call(
        "PATCH",
        f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
        "ana",
        {"prompt_text": "Q?", "timers": {"vote_sec": 5, "discuss_sec": 3600}},
        expect=200,
    )

    await scenario.advance(1, "VOTING")

    round_ = round_of(await _detail(scenario), 1)
    assert round_["timers"] == {
        "vote_sec": 5,
        "discuss_sec": 3600,
        "revote_sec": 60,
        "explain_sec": 180,
    }
    assert round_["timer"]["ends_at"] == "2026-11-30T10:00:05.000Z"


@pytest.mark.parametrize(
    "timers", [{"vote_sec": 4}, {"explain_sec": 3601}, {"vote_sec": "60"}, {"lunch_sec": 60}]
)
async def test_prompt_timers_out_of_range_are_refused_and_change_nothing(
    http: httpx.AsyncClient, timers: dict[str, Any]
) -> None:
    scenario = await make_session(http, MEMBERS)
    before = await _detail(scenario)

    response = await scenario.call(
        "PATCH",
        f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
        "ana",
        {"prompt_text": "Q?", "timers": timers},
    )

    assert response.status_code == 400, response.text
    assert round_of(await _detail(scenario), 1)["timers"] == round_of(before, 1)["timers"]


async def test_pause_keeps_what_is_left_and_resume_runs_it_from_now(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    clock.pass_(20)

    paused = await _timer(scenario, {"action": "pause"})
    clock.pass_(100)
    resumed = await _timer(scenario, {"action": "resume"}, user="cy")  # the TIMEKEEPER

    assert paused.status_code == 200, paused.text
    assert paused.json()["timer"] == {"state": "PAUSED", "ends_at": None, "remaining_sec": 40}
    assert resumed.json()["timer"] == {
        "state": "RUNNING",
        "ends_at": "2026-11-30T10:02:40.000Z",
        "remaining_sec": 40,
    }
    changed = [e for e in await feed_events(scenario) if e["event"] == "round.timerChanged"]
    assert [(e["data"]["action"], e["data"]["state"], e["data"]["by"]) for e in changed] == [
        ("pause", "PAUSED", "ana"),
        ("resume", "RUNNING", "cy"),
    ]
    assert changed[0]["data"]["remainingSec"] == 40 and changed[0]["data"]["endsAt"] is None
    assert changed[1]["seq"] == resumed.json()["seq"]


async def test_extend_adds_to_what_is_left_and_set_restarts_from_now(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    clock.pass_(10)

    extended = (await _timer(scenario, {"action": "extend", "seconds": 30})).json()
    set_ = (await _timer(scenario, {"action": "set", "seconds": 1})).json()

    assert extended["timer"]["remaining_sec"] == 80
    assert set_["timer"] == {
        "state": "RUNNING",
        "ends_at": "2026-11-30T10:00:11.000Z",
        "remaining_sec": 1,
    }


async def test_a_plain_member_may_not_touch_the_timer(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    before = await feed_events(scenario)

    response = await _timer(scenario, {"action": "pause"}, user="dee")

    assert response.status_code == 403, response.text
    assert await feed_events(scenario) == before


@pytest.mark.parametrize(
    "body",
    [
        {"action": "stop"},
        {"action": "extend"},
        {"action": "set", "seconds": 0},
        {"action": "set", "seconds": 3601},
        {"action": "pause", "seconds": 5},
        {},
    ],
)
async def test_a_bad_timer_action_is_refused(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    before = await feed_events(scenario)

    response = await _timer(scenario, body)

    assert response.status_code == 400, response.text
    assert await feed_events(scenario) == before


async def test_timer_actions_that_do_not_fit_the_state_are_conflicts(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, MEMBERS, rounds=2)
    await scenario.advance(1, "VOTING")

    assert (await _timer(scenario, {"action": "resume"})).status_code == 409
    await _timer(scenario, {"action": "pause"})
    assert (await _timer(scenario, {"action": "pause"})).status_code == 409
    created = await scenario.call("POST", _timer_path(scenario, 2), "ana", {"action": "pause"})
    assert created.status_code == 409, created.text  # round 2 is CREATED: no timed phase


async def test_the_timer_of_an_unknown_session_or_round_is_not_found(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, MEMBERS)

    unknown = await scenario.call(
        "POST", "/group-sessions/nope/rounds/1/timer", "ana", {"action": "pause"}
    )
    beyond = await scenario.call("POST", _timer_path(scenario, 11), "ana", {"action": "pause"})

    assert unknown.status_code == 404
    assert beyond.status_code in (400, 404)


async def test_a_timer_action_with_an_idempotency_key_happens_once(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    headers = {**auth("ana"), "Idempotency-Key": "extend-1"}
    body = {"action": "extend", "seconds": 5}

    first = await http.post(_timer_path(scenario), json=body, headers=headers)
    again = await http.post(_timer_path(scenario), json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert round_of(await _detail(scenario), 1)["timer"]["remaining_sec"] == 65


async def test_a_deadline_fires_round_time_up_once_and_the_phase_stays_open(
    http: httpx.AsyncClient, service: Service, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    clock.pass_(59.999)
    await service.phase_clock.fire_now()
    clock.pass_(0.001)

    await service.phase_clock.fire_now()
    await service.phase_clock.fire_now()

    time_ups = [e for e in await feed_events(scenario) if e["event"] == "round.timeUp"]
    assert [e["data"]["endsAt"] for e in time_ups] == ["2026-11-30T10:01:00.000Z"]
    assert time_ups[0]["data"]["status"] == "VOTING"
    round_ = round_of(await _detail(scenario), 1)
    assert (round_["status"], round_["timer"]["state"]) == ("VOTING", "EXPIRED")
    await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"})  # late votes count


async def test_auto_advance_moves_the_round_right_after_time_up_then_records_results(
    http: httpx.AsyncClient, service: Service, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS, auto_advance=True)
    await scenario.advance(1, "VOTING")
    await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"})
    clock.pass_(60)

    await service.phase_clock.fire_now()

    tail = (await feed_events(scenario))[-3:]
    assert [e["event"] for e in tail] == ["round.timeUp", "round.advanced", "round.results"]
    assert [e["seq"] for e in tail] == [tail[0]["seq"] + i for i in range(3)]
    assert tail[1]["data"]["auto"] is True and tail[1]["data"]["status"] == "DISCUSSING"
    assert tail[1]["data"]["endsAt"] == "2026-11-30T10:04:00.000Z"
    assert round_of(await _detail(scenario), 1)["timer"]["state"] == "RUNNING"


async def test_auto_advance_leaves_explaining_open_without_an_explanation(
    http: httpx.AsyncClient, service: Service, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS, auto_advance=True)
    await scenario.advance(1, "VOTING")
    for _ in ("DISCUSSING", "REVOTING", "EXPLAINING"):
        clock.pass_(180)
        await service.phase_clock.fire_now()
    assert round_of(await _detail(scenario), 1)["status"] == "EXPLAINING"

    clock.pass_(180)
    await service.phase_clock.fire_now()

    round_ = round_of(await _detail(scenario), 1)
    assert (round_["status"], round_["timer"]["state"]) == ("EXPLAINING", "EXPIRED")
    assert (await feed_events(scenario))[-1]["event"] == "round.timeUp"


async def test_finishing_a_session_stops_its_timers(
    http: httpx.AsyncClient, service: Service, clock: FakeClock
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    await scenario.call(
        "PUT", f"/group-sessions/{scenario.session_id}/status", "ana", {"status": "FINISHED"}
    )
    clock.pass_(3600)

    await service.phase_clock.fire_now()

    assert (await feed_events(scenario))[-1]["event"] == "session.ended"
    assert round_of(await _detail(scenario), 1)["timer"]["state"] == "NONE"


async def test_the_facilitator_turns_auto_advance_on_and_members_see_it(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, MEMBERS)
    path = f"/group-sessions/{scenario.session_id}/settings"

    answer = await scenario.call("PATCH", path, "ana", {"auto_advance": True})
    refused = await scenario.call("PATCH", path, "cy", {"auto_advance": False})
    bad = await scenario.call("PATCH", path, "ana", {"auto_advance": "yes"})
    unknown = await scenario.call(
        "PATCH", "/group-sessions/nope/settings", "ana", {"auto_advance": True}
    )

    assert answer.status_code == 200, answer.text
    assert (refused.status_code, bad.status_code, unknown.status_code) == (403, 400, 404)
    assert (await _detail(scenario, "dee"))["auto_advance"] is True
    last = (await feed_events(scenario))[-1]
    assert (last["event"], last["data"]["autoAdvance"], last["data"]["by"]) == (
        "session.settingsChanged",
        True,
        "ana",
    )
    assert last["seq"] == answer.json()["seq"]


async def test_settings_and_timers_of_a_finished_session_are_conflicts(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, MEMBERS)
    await scenario.advance(1, "VOTING")
    await scenario.call(
        "PUT", f"/group-sessions/{scenario.session_id}/status", "ana", {"status": "FINISHED"}
    )

    settings = await scenario.call(
        "PATCH", f"/group-sessions/{scenario.session_id}/settings", "ana", {"auto_advance": True}
    )
    timer = await _timer(scenario, {"action": "extend", "seconds": 5})

    assert (settings.status_code, timer.status_code) == (409, 409)
