"""SQLite WAL checkpoints on their own thread and connection, never in a COMMIT on the loop.

In WAL mode (synchronous=NORMAL) a COMMIT appends pages to the -wal file without an fsync; the
fsyncs come with the checkpoint, which copies the WAL back into the database file. By default
the connection that commits runs it, inside its COMMIT, every 1,000 pages. The app's
connections commit on the event loop (storage/sqlite_driver.py), so they are opened with
`wal_autocheckpoint=0` and this checkpointer does the work instead: within `interval` seconds
after a commit it runs `PRAGMA wal_checkpoint(PASSIVE)` on a thread of its own. PASSIVE takes
no lock a writer or reader waits for; what a reader still uses is copied at the next pass.

What the loop still does: the first COMMIT after a completed checkpoint starts the WAL over and
SQLite syncs its new header (one fsync, ~0.15 ms on the benchmark machine, at most once per
interval).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import make_url

log = logging.getLogger("studygroups.storage")

CHECKPOINT_EVERY_SECONDS = 1.0


def checkpointable_file(url: str) -> str | None:
    """The database file of an SQLite `url` whose WAL this process may checkpoint, or None for
    memory databases and URI filenames (SQLite's own options decide those: they keep the
    default checkpoints, in the COMMIT, which then stays on aiosqlite's thread)."""
    parsed = make_url(url)
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return None
    if name.startswith("file:") or parsed.query.get("uri"):
        return None
    return name


class Checkpointer:
    """Checkpoints one SQLite file's WAL off the loop, at most once per `interval` seconds
    after a commit (`committed`, called on the loop by the connection that committed)."""

    def __init__(self, path: str, interval: float = CHECKPOINT_EVERY_SECONDS) -> None:
        self.path = path
        self._interval = interval
        # One thread: the checkpoint connection is only ever used there.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._connection: sqlite3.Connection | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Future[None] | None = None
        self._closed = False
        self.passes = 0  # checkpoints run (tests and metrics read it)

    def committed(self) -> None:
        """A transaction was committed: make sure a checkpoint runs within the interval."""
        if self._timer is not None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._interval, self._start, loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._closed:
            return
        if self._running is not None and not self._running.done():
            self._timer = loop.call_later(self._interval, self._start, loop)  # a slow disk
            return
        self._running = loop.run_in_executor(self._thread, self._checkpoint)
        self._running.add_done_callback(_log_failure)

    def _checkpoint(self) -> None:
        """On the checkpoint thread."""
        if self._connection is None:
            self._connection = sqlite3.connect(self.path, isolation_level=None)
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.passes += 1

    def _close_connection(self) -> None:
        """On the checkpoint thread. The last connection to close checkpoints what is left and
        removes the WAL, as SQLite does with any last connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        """Stop: a pending checkpoint is cancelled, a running one finishes."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        if self._running is not None and self._running.get_loop() is loop:
            await asyncio.gather(self._running, return_exceptions=True)
        await loop.run_in_executor(self._thread, self._close_connection)
        self._thread.shutdown(wait=True)


def _log_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning(
            "SQLite checkpoint failed; the next commit retries it", exc_info=done.exception()
        )
