"""Reading the durable event log for delivery: the session head and ranges of stored events."""

from __future__ import annotations

from studygroups.domain.errors import Invalid
from studygroups.identity import Identity
from studygroups.services.access import load_session
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.storage import event_log
from studygroups.storage.event_log import StoredEvent

SEQ_MAX = 2**53


class EventFeed:
    """What the realtime gateway reads from the log: heads, gaps and replays."""

    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    async def head(self, session_id: str) -> int:
        async with self._units(writing=False) as uow:
            return await event_log.head(uow.db, session_id) or 0

    async def between(self, session_id: str, after_seq: int, up_to: int) -> list[StoredEvent]:
        """Events with after_seq < seq ≤ up_to, in order."""
        async with self._units(writing=False) as uow:
            return await event_log.read_after(
                uow.db, session_id, after_seq, limit=max(up_to - after_seq, 0), up_to=up_to
            )

    async def authorize_join(self, identity: Identity, session_id: str) -> int:
        """Only an ACTIVE member of the session's group may join its room; the session's head."""
        if not session_id or len(session_id) > 64:
            raise Invalid("sessionId must be a string of 1..64 characters")
        async with self._units(writing=False) as uow:
            access = await load_session(uow, session_id, identity.user_id)
            return access.session.last_seq
