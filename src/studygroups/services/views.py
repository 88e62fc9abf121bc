"""JSON-ready views (snake_case) of stored rows, shared by REST answers and stored retries."""

from __future__ import annotations

from typing import Any

from studygroups.services import answers
from studygroups.storage.chat import NewMessage
from studygroups.storage.event_log import iso_timestamp
from studygroups.storage.tables import (
    Activity,
    ChatMessage,
    Group,
    GroupContent,
    GroupMember,
    GroupSession,
    ReadCursor,
    Round,
    SharedCard,
    User,
)

Json = dict[str, Any]


def group(row: Group) -> Json:
    return {
        "id": row.id,
        "name": row.name,
        "scope_type": row.scope_type,
        "scope_id": row.scope_id,
        "created_by": row.created_by,
        "created_at": iso_timestamp(row.created_at),
    }


def member(row: GroupMember, user: User | None) -> Json:
    return {
        "user_id": row.user_id,
        "user_name": (user.name if user else None) or row.user_id,
        "email": user.email if user else None,
        "role": row.role,
        "status": row.status,
        "invited_by": row.invited_by,
        "updated_at": iso_timestamp(row.updated_at),
    }


def group_content(row: GroupContent) -> Json:
    return {
        "content_id": row.content_id,
        "position": row.position,
        "added_by": row.added_by,
        "added_at": iso_timestamp(row.added_at),
    }


def session_summary(row: GroupSession) -> answers.SessionSummary:
    return {
        "id": row.id,
        "group_id": row.group_id,
        "status": row.status,
        "mode": row.mode,
        "layer": row.layer,
        "content_id": row.content_id,
        "rounds_count": row.rounds_count,
        "created_by": row.created_by,
        "created_at": iso_timestamp(row.created_at),
        "started_at": iso_timestamp(row.started_at) if row.started_at else None,
        "finished_at": iso_timestamp(row.finished_at) if row.finished_at else None,
        "seq": row.last_seq,
    }


def round_(row: Round) -> answers.RoundView:
    return {
        "id": row.id,
        "round_index": row.round_index,
        "status": row.status,
        "prompt_text": row.prompt_text,
        "options": row.options,
        "linked_highlight_ids": row.linked_highlight_ids,
        "timers": {
            "vote_sec": row.vote_sec,
            "discuss_sec": row.discuss_sec,
            "revote_sec": row.revote_sec,
            "explain_sec": row.explain_sec,
        },
        "status_changed_at": iso_timestamp(row.status_changed_at)
        if row.status_changed_at
        else None,
    }


def shared_card(row: SharedCard, round_index: int) -> answers.SharedCard:
    return {
        "id": row.id,
        "session_id": row.session_id,
        "round_id": row.round_id,
        "round_index": round_index,
        "created_by": row.created_by,
        "explanation": row.explanation,
        "group_choice": row.group_choice,
        "key_terms": row.key_terms,
        "created_at": iso_timestamp(row.created_at),
        "updated_at": iso_timestamp(row.updated_at),
    }


def activity(row: Activity, round_index: int, *, hide_choice: bool) -> answers.ActivityEntry:
    payload = dict(row.payload)
    if hide_choice:
        payload.pop("choice", None)
    return {
        "id": row.id,
        "session_id": row.session_id,
        "round_id": row.round_id,
        "round_index": round_index,
        "user_id": row.user_id,
        "event_type": row.event_type,
        "payload": payload,
        "choice_hidden": hide_choice,
        "created_at": iso_timestamp(row.created_at),
        "updated_at": iso_timestamp(row.updated_at),
    }


def chat_message(
    row: ChatMessage | NewMessage, user_name: str, user_role: str | None
) -> answers.ChatMessage:
    return {
        "id": row.id,
        "session_id": row.session_id,
        "round_index": row.round_index,
        "user_id": row.user_id,
        "user_name": user_name,
        "user_role": user_role,
        "message": row.message,
        "seq": row.seq,
        "created_at": iso_timestamp(row.created_at),
    }


def read_cursor(row: ReadCursor) -> answers.ReadCursor:
    return {
        "user_id": row.user_id,
        "message_id": row.message_id,
        "updated_at": iso_timestamp(row.updated_at),
    }
