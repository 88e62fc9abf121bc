"""A start opens database connections ahead of the first joins (app.py `_warm`), and never
waits long for them: a database that does not answer is the outage path's."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import cast

import pytest

from studygroups import app
from studygroups.services.feed import EventFeed


class SilentDatabaseFeed:
    """A feed whose database never answers."""

    async def warm(self, connections: int) -> None:
        await asyncio.sleep(3600)


class RefusingDatabaseFeed:
    """Opening its connections together, as EventFeed.warm does: the refusals come grouped."""

    async def warm(self, connections: int) -> None:
        async def one() -> None:
            raise ConnectionRefusedError(111, "Connect call failed")

        async with asyncio.TaskGroup() as group:
            for _ in range(connections):
                group.create_task(one())


async def test_a_start_whose_database_does_not_answer_goes_on_at_the_time_limit_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app, "WARM_SECONDS", 0.05)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="studygroups"):
        assert await app._warm(cast(EventFeed, SilentDatabaseFeed()), 8) is False

    assert time.monotonic() - started < 1.0
    assert "could not open database connections ahead at start" in caplog.text


async def test_a_start_whose_database_refuses_connections_goes_on_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="studygroups"):
        assert await app._warm(cast(EventFeed, RefusingDatabaseFeed()), 8) is False

    assert "ConnectionRefusedError(111, 'Connect call failed')" in caplog.text
    assert "ExceptionGroup" not in caplog.text  # the cause, not the group around it
