"""The phase clock retries every second while the database is down, and says so once per outage
(with the first failure's traceback), then once when a pass succeeds again."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import pytest

from studygroups.services import clock
from studygroups.services.clock import Pass, PhaseClock
from studygroups.services.unit_of_work import UnitOfWorkFactory


async def test_an_outage_of_many_failed_passes_is_logged_once_and_its_end_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(clock, "ERROR_RETRY_SECONDS", 0.001)
    passes = 0
    passed = asyncio.Event()

    async def fire_now() -> Pass:
        nonlocal passes
        passes += 1
        if passes <= 5:  # the database is down for five passes
            raise ConnectionRefusedError(111, "Connect call failed")
        passed.set()
        return Pass(fired=0, sessions=0, lags=[])

    async def nearest_deadline(_units: object) -> None:
        return None

    monkeypatch.setattr(clock, "nearest_deadline", nearest_deadline)
    runner = PhaseClock(cast(UnitOfWorkFactory, object()))
    monkeypatch.setattr(runner, "fire_now", fire_now)
    with caplog.at_level(logging.INFO, logger=clock.log.name):
        task = asyncio.create_task(runner.run())
        await asyncio.wait_for(passed.wait(), 5)
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == clock.log.name]
    assert said == [
        ("WARNING", "phase clock pass failed; retrying every 0.001 s, said again when it passes"),
        ("INFO", "phase clock passes again after 5 failed passes"),
    ]
    assert caplog.records[0].exc_info is not None  # the first failure's traceback, once
