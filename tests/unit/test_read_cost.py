"""What a REST read takes from its user's read rate (api/deps.py)."""

from __future__ import annotations

from studygroups.api.deps import ReadCost
from studygroups.ratelimit import Limit, RateLimiter


def limiter() -> RateLimiter:
    return RateLimiter(Limit(rate=1e-9, burst=12.0), clock=lambda: 0.0)


def test_a_read_asking_for_a_thousand_rows_holds_eleven_tokens_while_it_runs() -> None:
    reads = limiter()
    first = ReadCost(reads, "ana", limit_rows=1000)
    assert first.reserve()
    assert not ReadCost(reads, "ana", limit_rows=1000).reserve()  # a second one at once
    assert ReadCost(reads, "ana", limit_rows=0).reserve()  # the twelfth token
    assert ReadCost(reads, "bo", limit_rows=1000).reserve()  # per user


def test_a_read_that_returns_fewer_rows_than_it_asked_for_gets_the_difference_back() -> None:
    reads = limiter()
    short = ReadCost(reads, "ana", limit_rows=1000)
    assert short.reserve()
    short.settle({"events": [{}] * 150, "has_more": False})  # costs 1 + 1: 9 come back
    assert [ReadCost(reads, "ana", limit_rows=0).reserve() for _ in range(11)] == [True] * 10 + [
        False
    ]


def test_a_read_that_returns_all_it_asked_for_keeps_its_cost() -> None:
    reads = limiter()
    full = ReadCost(reads, "ana", limit_rows=1000)
    assert full.reserve()
    full.settle([{}] * 1000)
    assert [ReadCost(reads, "ana", limit_rows=0).reserve() for _ in range(2)] == [True, False]


def test_a_read_without_a_limit_is_charged_after_for_the_rows_it_returned() -> None:
    reads = limiter()
    unbounded = ReadCost(reads, "ana", limit_rows=0)
    assert unbounded.reserve()
    unbounded.settle([{}] * 500)  # 1 + 5
    assert [ReadCost(reads, "ana", limit_rows=0).reserve() for _ in range(7)] == [True] * 6 + [
        False
    ]
