"""Token buckets with an injected clock (ratelimit.py)."""

from __future__ import annotations

from studygroups.ratelimit import Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_costly_call_takes_as_many_tokens_and_waits_for_them_to_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(Limit(rate=2.0, burst=10.0), clock)
    assert limiter.allow("ana", cost=6)
    assert not limiter.allow("ana", cost=6)
    assert limiter.allow("bo", cost=6)  # buckets are per key
    clock.now = 1.0  # +2 tokens: 6
    assert limiter.allow("ana", cost=6)


def test_a_cost_above_the_burst_takes_a_full_bucket_instead_of_never_passing() -> None:
    limiter = RateLimiter(Limit(rate=1.0, burst=5.0), Clock())
    assert limiter.allow("ana", cost=50)
    assert not limiter.allow("ana")
