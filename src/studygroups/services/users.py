"""Users learned from tokens: the first sight of an identity creates or refreshes its record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from studygroups.identity import Identity
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.storage import users as user_rows

log = logging.getLogger("studygroups.users")

BATCH_ROWS = 500  # identities written by one statement
BATCH_WAIT = 0.05  # seconds the first identity of a batch waits for others


class UserDirectory:
    """Upserts a user when a token shows new claims; remembers what it wrote to skip repeats.

    A REST call writes the record before it goes on (`remember`). A socket's connection does not
    wait for it (`remember_soon`): a user who joins a session is a member, so their record
    exists already and only its name and email may be refreshed. Those are written in batches,
    at most one transaction per BATCH_WAIT, in user-id order (two processes upserting the same
    users never wait on each other in opposite orders), and a row whose claims did not change is
    not rewritten: after a restart a reconnect storm's thousands of connections cost a few
    dozen transactions, not one each.
    """

    def __init__(
        self,
        units: UnitOfWorkFactory,
        capacity: int = 50_000,
        *,
        on_not_recorded: Callable[[int], None] | None = None,
    ) -> None:
        self._units = units
        self._seen: dict[str, Identity] = {}
        self._capacity = capacity
        self._pending: dict[str, Identity] = {}
        self._writer: asyncio.Task[None] | None = None
        self._on_not_recorded = on_not_recorded

    async def remember(self, identity: Identity) -> None:
        if self._seen.get(identity.user_id) == identity:
            return
        await self._write([identity])

    def remember_soon(self, identity: Identity) -> None:
        """Record the identity shortly, with others; never raises, never waits."""
        if self._seen.get(identity.user_id) == identity:
            return
        self._pending[identity.user_id] = identity
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())

    async def close(self) -> None:
        """Write what is pending (best effort) and stop."""
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def _write_pending(self) -> None:
        while self._pending:
            await asyncio.sleep(BATCH_WAIT)  # the connections of the next moments join in
            batch = sorted(self._pending.values(), key=lambda i: i.user_id)[:BATCH_ROWS]
            for identity in batch:
                del self._pending[identity.user_id]
            try:
                await self._write(batch)
            except Exception as error:  # noqa: BLE001 -- the database's trouble, not the client's
                if self._on_not_recorded is not None:
                    self._on_not_recorded(len(batch))
                log.warning(
                    "Could not record %d users at connect (%s); will retry at their next request",
                    len(batch),
                    type(error).__name__,
                )

    async def _write(self, identities: list[Identity]) -> None:
        claims = [(i.user_id, i.email, i.name) for i in identities]
        if self._units.database.is_sqlite:
            async with self._units() as uow:
                await user_rows.upsert_from_claims(uow.db, claims, uow.now())
                await uow.commit()
        else:
            async with self._units.reading() as db:
                await user_rows.upsert_from_claims_on_driver(db, claims, self._units.clock())
        if len(self._seen) + len(identities) > self._capacity:
            self._seen.clear()
        for identity in identities:
            self._seen[identity.user_id] = identity
