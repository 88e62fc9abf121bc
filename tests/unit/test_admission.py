"""CONNECTs wait, in arrival order, while the process is busy letting earlier sockets join."""

from __future__ import annotations

import asyncio

import pytest

from studygroups.realtime.admission import Admission


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def start(admission: Admission, sid: str, order: list[str]) -> asyncio.Task[None]:
    async def connect() -> None:
        await admission.admit(sid)
        order.append(sid)

    return asyncio.ensure_future(connect())


async def test_connects_are_let_in_at_once_while_fewer_than_the_limit_are_joining() -> None:
    admission = Admission(limit=2, grace=10)
    order: list[str] = []
    tasks = [start(admission, sid, order) for sid in ("a", "b")]
    await settle()
    assert order == ["a", "b"]
    assert all(task.done() for task in tasks)
    assert admission.waited == 0


async def test_connects_over_the_limit_wait_in_arrival_order_until_joins_end() -> None:
    admission = Admission(limit=2, grace=10)
    order: list[str] = []
    for sid in ("a", "b", "c", "d"):
        start(admission, sid, order)
    await settle()
    assert order == ["a", "b"]
    with admission.joining("a"):  # takes over a's place, nobody else gets in meanwhile
        await settle()
        assert order == ["a", "b"]
    await settle()
    assert order == ["a", "b", "c"]
    with admission.joining("b"), admission.joining("c"):
        await settle()
        assert order == ["a", "b", "c"]
    await settle()
    assert order == ["a", "b", "c", "d"]
    assert admission.waited == 2


async def test_a_socket_that_does_not_join_within_the_grace_gives_its_place_to_the_next() -> None:
    admission = Admission(limit=1, grace=0.05)
    order: list[str] = []
    start(admission, "a", order)
    waiting = start(admission, "b", order)
    await settle()
    assert order == ["a"]
    await asyncio.wait_for(waiting, 1)
    assert order == ["a", "b"]


async def test_a_socket_that_goes_away_gives_its_place_to_the_next() -> None:
    admission = Admission(limit=1, grace=10)
    order: list[str] = []
    start(admission, "a", order)
    start(admission, "b", order)
    await settle()
    admission.forget("a")
    await settle()
    assert order == ["a", "b"]


async def test_a_connect_cancelled_while_waiting_takes_no_place() -> None:
    admission = Admission(limit=1, grace=10)
    order: list[str] = []
    start(admission, "a", order)
    gone = start(admission, "b", order)
    start(admission, "c", order)
    await settle()
    gone.cancel()
    await settle()
    admission.forget("a")
    await settle()
    assert order == ["a", "c"]


async def test_nobody_waits_behind_a_join_that_failed() -> None:
    admission = Admission(limit=1, grace=10)
    order: list[str] = []
    start(admission, "a", order)
    start(admission, "b", order)
    await settle()
    with pytest.raises(RuntimeError), admission.joining("a"):
        raise RuntimeError("the join failed")
    await settle()
    assert order == ["a", "b"]
