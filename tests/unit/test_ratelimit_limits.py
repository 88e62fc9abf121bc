"""The limits in ratelimit.LIMITS, on a clock the test moves (no waiting)."""

from __future__ import annotations

from studygroups.ratelimit import LIMITS, RateLimiter


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_typing_is_relayed_once_then_refused_until_250_ms_have_passed() -> None:
    clock = FakeClock()
    typing = RateLimiter(LIMITS["typing"], clock)
    key = ("ana", "session-1")

    assert typing.allow(key)
    clock.now = 0.125
    assert not typing.allow(key)
    clock.now = 0.25
    assert typing.allow(key)
    assert not typing.allow(key)


def test_typing_in_one_session_does_not_use_up_another_sessions_or_another_users_turn() -> None:
    typing = RateLimiter(LIMITS["typing"], FakeClock())

    assert typing.allow(("ana", "session-1"))
    assert typing.allow(("ana", "session-2"))
    assert typing.allow(("bo", "session-1"))
    assert not typing.allow(("ana", "session-1"))


def test_rest_writes_allow_a_burst_of_100_then_50_more_each_second() -> None:
    clock = FakeClock()
    writes = RateLimiter(LIMITS["rest_write"], clock)

    assert sum(writes.allow("bo") for _ in range(150)) == 100
    clock.now = 1.0
    assert sum(writes.allow("bo") for _ in range(150)) == 50
    clock.now = 10.0
    assert sum(writes.allow("bo") for _ in range(150)) == 100  # the bucket holds 100 at most


def test_one_user_at_the_write_limit_leaves_another_users_writes_alone() -> None:
    writes = RateLimiter(LIMITS["rest_write"], FakeClock())
    while writes.allow("bo"):
        pass

    assert writes.allow("ana")
    assert not writes.allow("bo")
