"""The wire format of /study-groups client events: payload checks and acknowledgement shapes.

A check raises a DomainError; `ack_error` turns it into `{success: false, error: {code,
message}}` with the contract's codes (the one mapping of domain errors for Socket.IO).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from studygroups.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    closest,
)
from studygroups.domain.events import SEQ_WIRE_MAX
from studygroups.domain.text import storable
from studygroups.storage.event_log import iso_timestamp

ACK_CODES: dict[type[DomainError], str] = {
    Invalid: "BAD_REQUEST",
    Unauthenticated: "UNAUTHORIZED",
    Forbidden: "FORBIDDEN",
    NotFound: "NOT_FOUND",
    Conflict: "CONFLICT",
    RateLimited: "RATE_LIMITED",
}


def ack_error(error: DomainError) -> dict[str, Any]:
    code = closest(error, ACK_CODES, "BAD_REQUEST")
    return {"success": False, "error": {"code": code, "message": error.message}}


def now_iso() -> str:
    return iso_timestamp(datetime.now(UTC))


def payload_of(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise Invalid("payload must be an object")
    return data


def session_id_of(data: Mapping[str, Any]) -> str:
    return _id_of(data, "sessionId")


def _id_of(data: Mapping[str, Any], key: str) -> str:
    """An id: 1..64 characters that a database can hold. NUL (PostgreSQL text refuses it) and
    unpaired surrogates (no UTF-8 for them; JSON can carry one as `\\ud800`) are refused here,
    as REST refuses them: such an id in a join would fail the read it shares with the other
    joins of its loop turn."""
    value = data.get(key)
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise Invalid(f"{key} must be a string of 1..64 characters")
    if not storable(value):
        raise Invalid(f"{key} must not contain NUL (\\u0000) or unpaired surrogates")
    return value


def last_seq_of(data: Mapping[str, Any]) -> int | None:
    value = data.get("lastSeq")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEQ_WIRE_MAX:
        raise Invalid("lastSeq must be a non-negative integer")
    return value


def message_id_of(data: Mapping[str, Any]) -> str:
    return _id_of(data, "messageId")


def is_typing_of(data: Mapping[str, Any]) -> bool:
    value = data.get("isTyping")
    if not isinstance(value, bool):
        raise Invalid("isTyping must be a boolean")
    return value


def refresh_token_of(data: Any) -> str:
    """`refreshToken {token}`: anything but a string token is UNAUTHORIZED (API.md §7)."""
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str):
        raise Unauthenticated("token must be a string")
    return token


def token_of(environ: Mapping[str, Any], auth: Any) -> str | None:
    """`auth.token` first, then the `token` query parameter."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"].strip():
        return str(auth["token"])
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    tokens = query.get("token")
    return tokens[0] if tokens else None
