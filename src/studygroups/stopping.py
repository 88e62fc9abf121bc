"""Stopping a background task at shutdown, even when a library swallowed its cancellation.

A forever-loop is stopped by cancelling it and awaiting it. That only works when the
CancelledError reaches the loop: redis-py 8 on Python 3.11 can lose it while it opens a
connection (the command completes and the task carries on, `task.cancelling()` still 1), as
can any library that catches it. The loop then sleeps until its next pass and the shutdown
awaiting it waits forever: a process SIGTERMed in its first moments never exits. `stop`
cancels again until the task has finished, and gives up (logged) after a bound so a shutdown
always ends.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("studygroups")

# How long a cancelled task has to finish before it is cancelled again.
RECANCEL_EVERY_SECONDS = 0.05
# How long a shutdown waits for one task in all before it leaves it behind.
GIVE_UP_AFTER_SECONDS = 5.0


async def stop(task: asyncio.Task[Any], *, give_up_after: float = GIVE_UP_AFTER_SECONDS) -> None:
    """Cancel `task` and wait until it has finished, cancelling it again every 50 ms; after
    `give_up_after` seconds leave it running and log it. An error it ended with is logged, not
    raised: a shutdown goes on with the next thing to close."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    while not task.done():
        if loop.time() >= deadline:
            log.warning(
                "task %s did not stop within %.1f s; left behind", task.get_name(), give_up_after
            )
            return
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_EVERY_SECONDS)
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s ended with an error", task.get_name(), exc_info=task.exception())
