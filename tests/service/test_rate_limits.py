"""REST writes are limited per user: a flood gets 429 with Retry-After and stores nothing more;
other users write on, and the user may write again once the bucket refills."""

from __future__ import annotations

import asyncio

import httpx

from studygroups.app import Service
from studygroups.ratelimit import Limit, RateLimiter
from tests.support import Scenario, make_session


async def test_a_user_flooding_writes_gets_429_with_retry_after_and_nothing_extra_is_stored(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    small_write_limit(service)  # the clock stands still: no refill, whatever the machine's load

    answers = await asyncio.gather(
        *(scenario.chat("bo", f"spam {i}", expect=None) for i in range(160))
    )

    refused = [a for a in answers if a.status_code == 429]
    stored = [a for a in answers if a.status_code == 201]
    assert len(stored) == 2 and len(refused) == 158
    assert refused[0].headers["Retry-After"] == "1"
    assert refused[0].json()["statusCode"] == 429
    listed = await scenario.call(
        "GET", f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat", "ana", expect=200
    )
    assert len(listed.json()["messages"]) == len(stored)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def small_write_limit(service: Service) -> FakeClock:
    """Two writes at once, then one a second, on a clock the test moves (the real numbers are
    pinned in tests/unit/test_ratelimit.py); this checks how REST applies the limit."""
    clock = FakeClock()
    service.api.state.api.write_limiter = RateLimiter(Limit(rate=1.0, burst=2.0), clock)
    return clock


async def _statuses(scenario: Scenario, user: str, count: int) -> list[int]:
    return [(await scenario.chat(user, "hi", expect=None)).status_code for _ in range(count)]


async def test_one_user_at_the_write_limit_leaves_another_users_writes_alone(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    small_write_limit(service)

    assert await _statuses(scenario, "bo", 3) == [201, 201, 429]
    assert await _statuses(scenario, "ana", 2) == [201, 201]
    assert await _statuses(scenario, "bo", 1) == [429]


async def test_a_user_at_the_write_limit_may_write_again_once_the_bucket_has_refilled(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    clock = small_write_limit(service)
    assert await _statuses(scenario, "bo", 3) == [201, 201, 429]

    clock.now = 0.5
    half_way = await _statuses(scenario, "bo", 1)
    clock.now = 1.5
    refilled = await _statuses(scenario, "bo", 2)

    assert half_way == [429]
    assert refilled == [201, 429]
    listed = await scenario.call(
        "GET", f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat", "ana", expect=200
    )
    assert len(listed.json()["messages"]) == 3
