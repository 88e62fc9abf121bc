"""Who is present in a session: the store's interface, and the members-only listing use case."""

from __future__ import annotations

from typing import Protocol

from studygroups.identity import Identity
from studygroups.services.access import load_session
from studygroups.services.answers import PresenceAnswer
from studygroups.services.unit_of_work import UnitOfWork


class Presence(Protocol):
    """Counts each user's sockets per session (multi-tab), across every process that shares it."""

    async def enter(
        self, session_id: str, user_id: str, user_name: str, sid: str
    ) -> tuple[bool, list[dict[str, str]]]:
        """Count a socket in: True when it is the user's first socket in the session, and
        everyone present then (as `present`), in one step of the store."""

    async def remove(self, session_id: str, user_id: str, sid: str) -> bool:
        """Count a socket out; True when it was the user's last socket in the session."""

    async def present(self, session_id: str) -> list[dict[str, str]]:
        """Everyone present: [{userId, userName}], sorted by userId."""

    async def close(self, *, withdraw: bool = True) -> None:
        """Stop background work and withdraw this process's entries; `withdraw=False` (a
        shutdown) leaves them to expire with this process, as if it had died."""


async def list_presence(
    uow: UnitOfWork, actor: Identity, session_id: str, presence: Presence
) -> PresenceAnswer:
    """Members only: who is connected to the session right now, on any process."""
    await load_session(uow, session_id, actor.user_id)
    present = await presence.present(session_id)
    return {
        "session_id": session_id,
        "presence": [{"userId": p["userId"], "userName": p["userName"]} for p in present],
    }
