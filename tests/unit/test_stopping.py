"""A shutdown stops its background tasks even when one of them lost a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from studygroups.stopping import stop


async def test_a_task_that_swallowed_its_first_cancellation_is_stopped() -> None:
    swallowed = 0

    async def forever_swallowing_once() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # as a library that loses the CancelledError

    task = asyncio.create_task(forever_swallowing_once())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait({task}, timeout=0.1)
    assert not task.done()  # what one cancel leaves: a loop that goes on

    await asyncio.wait_for(stop(task), timeout=2)

    assert task.cancelled()
    assert swallowed == 1


async def test_a_task_that_never_stops_is_left_behind_after_the_bound_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    task = asyncio.create_task(deaf(), name="deaf")
    await asyncio.sleep(0)

    await asyncio.wait_for(stop(task, give_up_after=0.2), timeout=2)

    assert not task.done()
    assert "task deaf did not stop within 0.2 s" in caplog.text
    release.set()
    task.cancel()
    await asyncio.wait({task})


async def test_an_error_a_stopped_task_ended_with_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="studygroups")

    async def failing_on_cancel() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("could not clean up") from None

    task = asyncio.create_task(failing_on_cancel(), name="cleaner")
    await asyncio.sleep(0)

    await stop(task)

    assert "task cleaner ended with an error" in caplog.text
    assert "could not clean up" in caplog.text


async def test_a_finished_task_is_left_as_it_is() -> None:
    async def quick() -> int:
        return 7

    task = asyncio.create_task(quick())
    await asyncio.wait({task})

    await stop(task)

    assert task.result() == 7
