"""Loading a session together with what the caller is to it: the start of every session command."""

from __future__ import annotations

from dataclasses import dataclass

from studygroups.domain.errors import NotFound
from studygroups.domain.groups import MemberRole, MemberStatus
from studygroups.domain.permissions import can_facilitate, check_active_member
from studygroups.domain.sessions import SessionRole, SessionStatus
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import groups as group_rows
from studygroups.storage import sessions as session_rows
from studygroups.storage.tables import GroupSession


def _member_status(raw: str | None) -> MemberStatus | None:
    return MemberStatus(raw) if raw else None


async def check_group_member(uow: UnitOfWork, group_id: str, user_id: str) -> None:
    """Only an ACTIVE member of the group gets past (FORBIDDEN otherwise)."""
    me = await group_rows.membership(uow.db, group_id, user_id)
    check_active_member(_member_status(me.status if me else None))


@dataclass(frozen=True)
class SessionAccess:
    session: GroupSession
    user_id: str
    group_role: MemberRole | None
    group_status: MemberStatus | None
    session_role: SessionRole | None

    @property
    def status(self) -> SessionStatus:
        return SessionStatus(self.session.status)

    @property
    def facilitates(self) -> bool:
        return can_facilitate(self.group_role, self.group_status, self.session_role)


async def load_session(
    uow: UnitOfWork, session_id: str, user_id: str, *, lock: bool = False
) -> SessionAccess:
    """The session (locked for writing when asked) and the caller's roles; 404 if unknown.

    Non-members get 403: a session id is not a secret worth a 404, and the difference helps
    clients tell "wrong id" from "no access".
    """
    found = await session_rows.with_roles(uow.db, session_id, user_id, for_update=lock)
    if found is None:
        raise NotFound("session not found")
    session, group_role, group_status, session_role = found
    access = SessionAccess(
        session=session,
        user_id=user_id,
        group_role=MemberRole(group_role) if group_role else None,
        group_status=_member_status(group_status),
        session_role=SessionRole(session_role) if session_role else None,
    )
    check_active_member(access.group_status)
    return access


def head_for_member(found: tuple[int, str | None] | None) -> int:
    """The session's head, for an ACTIVE member of its group only: the refusals of
    `load_session` (404 unknown, 403 not a member) from the row of
    `storage.sessions.head_and_membership` (head, membership status; None: unknown session)."""
    if found is None:
        raise NotFound("session not found")
    head, group_status = found
    check_active_member(_member_status(group_status))
    return head


@dataclass(frozen=True)
class SessionBrief:
    """The session columns a chat post needs and the caller's session role, without the ORM row."""

    group_id: str
    status: SessionStatus
    rounds_count: int
    session_role: SessionRole | None


async def take_seq_for(uow: UnitOfWork, session_id: str, user_id: str) -> tuple[SessionBrief, int]:
    """`load_session(lock=True)` in brief, together with the session's next seq, in one statement:
    the same refusals and lock. The seq is the caller's to record with `uow.record_numbered`; a
    refusal raised here or after it rolls the seq back with the transaction."""
    found = await session_rows.take_seq_with_roles(uow.db, session_id, user_id)
    if found is None:
        raise NotFound("session not found")
    seq, group_id, status, rounds_count, group_status, session_role = found
    check_active_member(_member_status(group_status))
    brief = SessionBrief(
        group_id=group_id,
        status=SessionStatus(status),
        rounds_count=rounds_count,
        session_role=SessionRole(session_role) if session_role else None,
    )
    return brief, seq
