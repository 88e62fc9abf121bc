"""The unit of work: one database transaction whose recorded events are published after COMMIT.

This is the one path every durable change takes (docs/architecture.md, "The event pipeline"):
state and events are written in the same transaction, and only a committed transaction hands
its events to the publisher. A rollback loses both together, so nothing half-happens.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from studygroups.domain.events import DomainEvent
from studygroups.storage import event_log
from studygroups.storage.database import Database
from studygroups.storage.event_log import StoredEvent

log = logging.getLogger("studygroups.events")

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Publisher(Protocol):
    """Delivers what the services decided to the people connected (realtime/publisher.py)."""

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        """Broadcast committed durable events, in seq order per session."""

    async def remove_user(self, user_id: str, session_ids: Sequence[str]) -> None:
        """Take a user's sockets out of these sessions' rooms (membership was revoked)."""


class UnitOfWork:
    """`async with uow:` opens a transaction; `commit()` commits, then publishes what was recorded.

    Leaving the block without commit rolls back, and the recorded events vanish with the state.
    A writing unit holds SQLite's writer slot for its whole life (PostgreSQL locks rows instead).
    """

    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        clock: Clock = utc_now,
        *,
        writing: bool = True,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._clock = clock
        self._writing = writing
        self._recorded: list[StoredEvent] = []
        self._after_commit: list[tuple[str, list[str]]] = []
        self._db: AsyncSession | None = None
        self._lock = database.writing() if writing else None

    @property
    def db(self) -> AsyncSession:
        if self._db is None:
            raise RuntimeError("the unit of work is not open")
        return self._db

    @property
    def is_postgres(self) -> bool:
        return not self._database.is_sqlite

    def now(self) -> datetime:
        return self._clock()

    async def __aenter__(self) -> Self:
        if self._lock is not None:
            await self._lock.__aenter__()
        self._db = self._database.session()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._db is not None:
                await self._db.rollback()  # a no-op after commit
                await self._db.close()
        finally:
            self._db = None
            self._recorded = []
            if self._lock is not None:
                await self._lock.__aexit__(kind, error, trace)

    async def record(self, session_id: str, *events: DomainEvent) -> list[StoredEvent]:
        """Store events in this transaction with the session's next seqs."""
        stored = await event_log.append(self.db, session_id, events, self.now())
        self._recorded.extend(stored)
        return stored

    async def record_numbered(
        self, session_id: str, last_seq: int, *events: DomainEvent
    ) -> list[StoredEvent]:
        """`record` for seqs this transaction already took (up to `last_seq`), with its own read
        of the session (services/access.py `take_seq_for`): one statement fewer on the hot path."""
        stored = await event_log.store_numbered(self.db, session_id, events, last_seq, self.now())
        self._recorded.extend(stored)
        return stored

    async def record_numbered_many(
        self, batches: Sequence[tuple[str, int, Sequence[DomainEvent]]]
    ) -> list[StoredEvent]:
        """`record_numbered` for several sessions, `(session_id, last_seq, events)`, in one
        INSERT (the phase clock firing a batch of deadlines)."""
        stored = await event_log.store_numbered_many(self.db, batches, self.now())
        self._recorded.extend(stored)
        return stored

    def remove_user_after_commit(self, user_id: str, session_ids: Sequence[str]) -> None:
        """After commit, take the user's sockets out of these session rooms."""
        self._after_commit.append((user_id, list(session_ids)))

    async def commit(self) -> None:
        await self.db.commit()
        recorded, self._recorded = self._recorded, []
        removals, self._after_commit = self._after_commit, []
        try:
            if recorded:
                await self._publisher.publish(recorded)
            for user_id, session_ids in removals:
                await self._publisher.remove_user(user_id, session_ids)
        except Exception:
            log.exception("publishing after commit failed; clients will recover from the log")


class UnitOfWorkFactory:
    """Builds units of work bound to the app's database, publisher and clock."""

    def __init__(self, database: Database, publisher: Publisher, clock: Clock = utc_now) -> None:
        self.database = database
        self.publisher = publisher
        self.clock = clock

    def __call__(self, *, writing: bool = True) -> UnitOfWork:
        return UnitOfWork(self.database, self.publisher, self.clock, writing=writing)

    def reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads that need no transaction and no ORM (the live path's)."""
        return self.database.reading()

    async def at_once(
        self,
        postgres: Callable[[AsyncConnection], Awaitable[T]],
        sqlite: Callable[[sqlite3.Connection], T],
    ) -> T | None:
        """A write that is its own transaction, below the unit of work: `postgres(connection)`
        on a connection where each statement commits on its own (no BEGIN and COMMIT round
        trips), or `sqlite(connection)` on SQLite's writer connection in the writer slot,
        synchronously (it commits or rolls back before it returns). None where neither
        applies (SQLite in memory); what it records is published with `published`."""
        if not self.database.is_sqlite:
            async with self.database.reading() as connection:
                return await postgres(connection)
        async with self.database.sqlite_writer() as writer:
            if writer is None:
                return None
            done = sqlite(writer)
        self.database.committed()
        return done

    async def published(self, events: Sequence[StoredEvent]) -> None:
        """Hand the events a single statement committed to the publisher, as `commit` does."""
        try:
            await self.publisher.publish(events)
        except Exception:
            log.exception("publishing after commit failed; clients will recover from the log")
