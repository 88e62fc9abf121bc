"""Token expiry on live sockets: one timer per socket whose token carries `exp` (API.md §7).

Each timer is an `asyncio` `call_at` on the loop's clock, not a poll. `exp` is wall-clock time,
so a timer that fires before it (the two clocks drifted apart) is armed again for the rest; the
callback runs as a task, kept here until it finishes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from studygroups.storage.event_log import iso_timestamp

LATEST_EXP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second an ISO timestamp can name

Expire = Callable[[str], Coroutine[Any, Any, None]]


def expires_iso(expires_at: int | None) -> str | None:
    """A token's `exp` as the ISO-8601 UTC timestamp of the contract (None without one)."""
    if expires_at is None:
        return None
    return iso_timestamp(datetime.fromtimestamp(max(0, min(expires_at, LATEST_EXP)), UTC))


class ExpiryTimers:
    """`arm(sid, exp)` makes `expire(sid)` run once the wall clock reaches `exp`."""

    def __init__(self, expire: Expire, clock: Callable[[], float] = time.time) -> None:
        self._expire = expire
        self._clock = clock
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()

    def arm(self, sid: str, expires_at: int | None) -> None:
        """Replace the socket's timer; a token without `exp` leaves it without one."""
        self.disarm(sid)
        if expires_at is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, expires_at - self._clock())
        self._handles[sid] = loop.call_at(loop.time() + delay, self._fire, sid, expires_at)

    def disarm(self, sid: str) -> None:
        handle = self._handles.pop(sid, None)
        if handle is not None:
            handle.cancel()

    def __len__(self) -> int:
        return len(self._handles)

    def _fire(self, sid: str, expires_at: int) -> None:
        self._handles.pop(sid, None)
        if self._clock() < expires_at:
            self.arm(sid, expires_at)
            return
        task = asyncio.get_running_loop().create_task(self._expire(sid))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
