"""Places for new clients arriving at once (realtime/admission.py): who waits, who goes next,
when a place is given up, and how the number of places follows the loop's lag."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from studygroups.realtime.admission import Admission


def opens(admission: Admission, started: list[str], sid: str) -> Callable[[], bool]:
    """A waiting upgrade whose client is still there: its socket opens and takes a place."""

    def start() -> bool:
        started.append(sid)
        admission.hold(sid)
        return True

    return start


async def test_clients_take_places_until_every_place_is_held() -> None:
    admission = Admission(places=2, hold_seconds=30)
    admission.hold("a")
    assert not admission.full()
    admission.hold("b")
    assert admission.full()


async def test_waiting_upgrades_go_in_in_arrival_order_as_clients_get_in() -> None:
    admission = Admission(places=1, hold_seconds=30)
    started: list[str] = []
    admission.hold("a")
    for sid in ("b", "c"):
        admission.wait(opens(admission, started, sid))
    assert started == []

    admission.release("a")
    assert started == ["b"]
    admission.release("b")
    assert started == ["b", "c"]
    admission.release("c")
    assert (admission.held, admission.waiting, admission.full()) == (0, 0, False)


async def test_nobody_jumps_the_queue_while_upgrades_wait() -> None:
    admission = Admission(places=2, hold_seconds=30)
    admission.hold("a")
    admission.hold("b")
    admission.wait(opens(admission, [], "c"))
    admission.release("a")  # c takes the freed place

    assert (admission.held, admission.waiting, admission.full()) == (2, 0, True)


async def test_a_waiting_upgrade_whose_client_left_takes_no_place_and_the_next_goes_in() -> None:
    admission = Admission(places=1, hold_seconds=30)
    started: list[str] = []
    admission.hold("a")
    admission.wait(lambda: False)  # its client closed the connection meanwhile
    admission.wait(opens(admission, started, "c"))

    admission.release("a")

    assert started == ["c"]
    assert (admission.held, admission.waiting) == (1, 0)


async def test_a_client_that_begins_no_join_gives_its_place_up_after_the_hold() -> None:
    admission = Admission(places=1, hold_seconds=0.05, min_places=1, max_places=1)
    started: list[str] = []
    admission.hold("a")
    admission.wait(opens(admission, started, "b"))

    await asyncio.sleep(0.2)

    assert started == ["b"]


async def test_a_client_whose_join_began_keeps_its_place_until_the_join_is_answered() -> None:
    admission = Admission(places=1, hold_seconds=0.05, min_places=1, max_places=1)
    started: list[str] = []
    admission.hold("a")
    admission.joining("a")
    admission.wait(opens(admission, started, "b"))

    await asyncio.sleep(0.2)
    assert started == []
    admission.release("a")
    assert started == ["b"]


async def test_releasing_or_joining_a_client_that_holds_no_place_changes_nothing() -> None:
    admission = Admission(places=1, hold_seconds=30)
    admission.hold("a")
    admission.wait(lambda: False)

    admission.release("someone else")
    admission.joining("someone else")

    assert (admission.held, admission.waiting) == (1, 1)


async def test_an_upgrade_that_fails_to_start_is_logged_and_the_next_one_still_goes_in(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> bool:
        raise RuntimeError("the transport broke")

    admission = Admission(places=1, hold_seconds=30)
    started: list[str] = []
    admission.hold("a")
    admission.wait(broken)
    admission.wait(opens(admission, started, "c"))

    admission.release("a")

    assert started == ["c"]
    assert "could not serve a waiting WebSocket upgrade" in caplog.text


def test_a_busy_loop_takes_places_away_down_to_the_least_and_an_idle_one_adds_up_to_the_most() -> (
    None
):
    admission = Admission(places=16, min_places=8, max_places=40)

    admission.adapt(0.95)
    assert admission.places == 14
    for _ in range(20):
        admission.adapt(0.95)
    assert admission.places == 8
    admission.adapt(0.7)  # between the two bounds: as it is
    assert admission.places == 8
    admission.adapt(0.3)
    assert admission.places == 10
    for _ in range(20):
        admission.adapt(0.0)
    assert admission.places == 40


async def test_while_clients_wait_an_idle_loop_opens_more_places_and_lets_them_in() -> None:
    admission = Admission(places=1, hold_seconds=30, min_places=1, max_places=4)
    started: list[str] = []
    admission.hold("a")  # away on its network round trip: the loop idles
    for sid in ("b", "c", "d", "e"):
        admission.wait(opens(admission, started, sid))

    await asyncio.sleep(0.3)

    assert started == ["b", "c", "d"]
    assert admission.places == 4


async def test_while_clients_wait_a_loop_running_all_the_time_opens_no_more_places() -> None:
    admission = Admission(places=1, hold_seconds=30, min_places=1)
    started: list[str] = []
    admission.hold("a")
    admission.wait(opens(admission, started, "b"))

    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        turn_ends = time.monotonic() + 0.01
        while time.monotonic() < turn_ends:  # every turn computes for 10 ms
            pass
        await asyncio.sleep(0)

    assert started == []
    assert admission.places == 1
