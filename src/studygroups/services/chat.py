"""Chat use cases: post a message, list them with read cursors, move a read cursor."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime

from studygroups.domain import chat as rules
from studygroups.domain import sessions as session_rules
from studygroups.domain.errors import NotFound
from studygroups.domain.events import ChatMessagePosted
from studygroups.domain.groups import MemberStatus
from studygroups.domain.rounds import check_round_index
from studygroups.domain.sessions import SessionStatus
from studygroups.identity import Identity
from studygroups.services import answers, views
from studygroups.services.access import SessionAccess, load_session, take_seq_for
from studygroups.services.rooms import Signals
from studygroups.services.sessions import load_round
from studygroups.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from studygroups.storage import chat as chat_rows
from studygroups.storage import sessions as session_rows
from studygroups.storage import users
from studygroups.storage.database import json_dumps
from studygroups.storage.event_log import StoredEvent, iso_timestamp
from studygroups.storage.tables import ReadCursor


def _check_in_group(session_group_id: str, group_id: str) -> None:
    """Chat lives under /groups/{g}/sessions/{s}: the session must belong to that group."""
    if session_group_id != group_id:
        raise NotFound("session not found in this group")


async def _chat_access(
    uow: UnitOfWork, actor: Identity, group_id: str, session_id: str
) -> SessionAccess:
    access = await load_session(uow, session_id, actor.user_id)
    _check_in_group(access.session.group_id, group_id)
    return access


def _posted(actor: Identity, session_id: str, round_index: int, text: str) -> ChatMessagePosted:
    return ChatMessagePosted(
        session_id,
        message_id=str(uuid.uuid4()),
        round_index=round_index,
        message=text,
        user_id=actor.user_id,
        user_name=actor.name,
    )


def _row_of(event: ChatMessagePosted, seq: int, timestamp: str) -> chat_rows.NewMessage:
    """The message's row: created at the event's own timestamp, so the REST `created_at`
    equals the socket's `timestamp`."""
    return chat_rows.NewMessage(
        id=event.message_id,
        session_id=event.session_id,
        round_index=event.round_index,
        user_id=event.user_id,
        message=event.message,
        seq=seq,
        created_at=datetime.fromisoformat(timestamp),
    )


async def post_message(
    uow: UnitOfWork, actor: Identity, group_id: str, session_id: str, round_index: int, raw: str
) -> answers.ChatMessage:
    """Store a cleaned message and broadcast `chat.message` with the same seq as its log entry."""
    text = rules.clean_message(raw)
    # The hottest write: one statement reads the session and takes the seq (a refusal below
    # rolls it back), then two Core INSERTs; no ORM rows.
    access, seq = await take_seq_for(uow, session_id, actor.user_id)
    _check_in_group(access.group_id, group_id)
    session_rules.check_not_finished(access.status)
    check_round_index(round_index, access.rounds_count)  # rounds 1..count all exist
    event = _posted(actor, session_id, round_index, text)
    [stored] = await uow.record_numbered(session_id, seq, event)
    row = _row_of(event, stored.seq, stored.created_at)
    await chat_rows.add_message(uow.db, row)
    role = access.session_role
    return views.chat_message(row, actor.name, str(role) if role else None)


async def post_message_at_once(
    units: UnitOfWorkFactory,
    actor: Identity,
    group_id: str,
    session_id: str,
    round_index: int,
    raw: str,
) -> answers.ChatMessage | None:
    """`post_message` as one transaction below the unit of work (`UnitOfWorkFactory.at_once`:
    one statement on PostgreSQL, one synchronous run on SQLite's writer connection), then the
    same broadcast. None where that is not available, or when any check refuses the post,
    which then changed nothing: the caller runs `post_message` in a unit of work, which
    raises that refusal."""
    now = units.clock()
    timestamp = iso_timestamp(now)
    event = _posted(actor, session_id, round_index, rules.clean_message(raw))
    payload = event.payload()
    row = _row_of(event, 0, timestamp)  # its seq is taken by the statement
    post = chat_rows.PostAtOnce(
        message=row,
        group_id=group_id,
        event=event.name,
        data_head=json_dumps(payload)[:-1] + ',"seq":',
        data_tail="," + json_dumps({"timestamp": timestamp})[1:],
        logged_at=now,
        finished=SessionStatus.FINISHED,
        active=MemberStatus.ACTIVE,
    )
    taken = await units.at_once(
        lambda db: chat_rows.post_at_once(db, post),
        lambda db: chat_rows.post_at_once_sqlite(db, post),
    )
    if taken is None:
        return None
    seq, role = taken
    data = {**payload, "seq": seq, "timestamp": timestamp}
    await units.published([StoredEvent(session_id, seq, event.name, data, timestamp)])
    return views.chat_message(dataclasses.replace(row, seq=seq), actor.name, role)


async def list_messages(
    uow: UnitOfWork, actor: Identity, group_id: str, session_id: str, round_index: int | None
) -> answers.ChatLog:
    access = await _chat_access(uow, actor, group_id, session_id)
    if round_index is not None:
        await load_round(uow, access.session, round_index)
    rows = await chat_rows.messages(uow.db, session_id, round_index)
    names = await users.names(uow.db, [r.user_id for r in rows])
    roles = {m.user_id: m.role for m in await session_rows.members(uow.db, session_id)}
    return {
        "messages": [views.chat_message(r, names[r.user_id], roles.get(r.user_id)) for r in rows],
        "read_cursors": [views.read_cursor(c) for c in await chat_rows.cursors(uow.db, session_id)],
    }


async def mark_read(
    uow: UnitOfWork, actor: Identity, session_id: str, message_id: str
) -> answers.ReadCursor:
    """Move the caller's read cursor forward to `message_id` (never backwards)."""
    await load_session(uow, session_id, actor.user_id)
    message = await chat_rows.message(uow.db, message_id)
    if message is None or message.session_id != session_id:
        raise NotFound("message not found in this session")
    cursor = await chat_rows.cursor(uow.db, session_id, actor.user_id)
    now = uow.now()
    if cursor is None:
        cursor = ReadCursor(
            session_id=session_id,
            user_id=actor.user_id,
            message_id=message_id,
            message_seq=message.seq,
            updated_at=now,
        )
        uow.db.add(cursor)
    elif message.seq > cursor.message_seq:
        cursor.message_id, cursor.message_seq, cursor.updated_at = message_id, message.seq, now
    await uow.db.flush()
    return views.read_cursor(cursor)


@dataclass(frozen=True)
class ReadMarked:
    session_id: str
    message_id: str  # where the caller's cursor is now (not moved back by an older message)


async def mark_read_live(
    units: UnitOfWorkFactory, signals: Signals, actor: Identity, session_id: str, message_id: str
) -> ReadMarked:
    """`markRead` of a socket: move the cursor in its own transaction, then tell the room
    `chat.read` (ephemeral, after the commit: a refusal tells nobody)."""
    async with units() as uow:
        cursor = await mark_read(uow, actor, session_id, message_id)
        await uow.commit()
    moved_to = str(cursor["message_id"])
    await signals.signal(
        "chat.read",
        session_id,
        actor.user_id,
        {"sessionId": session_id, "userId": actor.user_id, "messageId": moved_to},
    )
    return ReadMarked(session_id, moved_to)
