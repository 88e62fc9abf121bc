"""Token expiry timers on live sockets (realtime/expiry.py): one `call_at` per socket, keyed to
the token's `exp` on the wall clock."""

from __future__ import annotations

import asyncio

from studygroups.realtime.expiry import ExpiryTimers, expires_iso


class WallClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _recorder() -> tuple[list[str], ExpiryTimers, WallClock]:
    expired: list[str] = []

    async def expire(sid: str) -> None:
        expired.append(sid)

    clock = WallClock(1000.0)
    return expired, ExpiryTimers(expire, clock), clock


async def test_a_socket_expires_once_the_wall_clock_reaches_exp() -> None:
    expired, timers, _ = await _recorder()
    timers.arm("s1", 1000)  # due now
    timers.arm("s2", 1000 + 3600)

    async with asyncio.timeout(5):
        while not expired:
            await asyncio.sleep(0.01)

    assert expired == ["s1"]
    assert len(timers) == 1
    timers.disarm("s2")
    assert len(timers) == 0


async def test_a_timer_that_fires_before_exp_by_the_wall_clock_is_armed_again() -> None:
    expired, timers, clock = await _recorder()
    clock.now = 999.95
    timers.arm("s1", 1000)  # 50 ms away on the loop's clock
    clock.now = 999.0  # the wall clock went back meanwhile: one second is left

    await asyncio.sleep(0.2)
    early = list(expired)
    clock.now = 1000.0
    async with asyncio.timeout(5):
        while not expired:
            await asyncio.sleep(0.01)

    assert early == []
    assert expired == ["s1"]


async def test_rearming_replaces_the_timer_and_a_token_without_exp_has_none() -> None:
    expired, timers, _ = await _recorder()
    timers.arm("s1", 1000)
    timers.arm("s1", None)  # refreshed with a token without exp

    await asyncio.sleep(0.05)

    assert expired == []
    assert len(timers) == 0


def test_exp_is_written_as_the_contracts_timestamp() -> None:
    assert expires_iso(None) is None
    assert expires_iso(1_700_000_000) == "2023-11-14T22:13:20.000Z"
    assert expires_iso(10**15) == "9999-12-31T23:59:59.000Z"  # beyond what ISO can name
