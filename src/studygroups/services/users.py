"""Users learned from tokens: the first sight of an identity creates or refreshes its record."""

from __future__ import annotations

from studygroups.identity import Identity
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.storage import users as user_rows


class UserDirectory:
    """Upserts a user when a token shows new claims; remembers what it wrote to skip repeats."""

    def __init__(self, units: UnitOfWorkFactory, capacity: int = 50_000) -> None:
        self._units = units
        self._seen: dict[str, Identity] = {}
        self._capacity = capacity

    async def remember(self, identity: Identity) -> None:
        if self._seen.get(identity.user_id) == identity:
            return
        async with self._units() as uow:
            await user_rows.upsert_from_claims(
                uow.db, identity.user_id, identity.email, identity.name, uow.now()
            )
            await uow.commit()
        if len(self._seen) >= self._capacity:
            self._seen.clear()
        self._seen[identity.user_id] = identity
