"""A group's content playlist: which content ids may be listed, duplicates, positions, size."""

from __future__ import annotations

import unicodedata

from studygroups.domain.errors import Conflict, Invalid, NotFound

CONTENT_ID_MAX = 200  # as a session's content_id


def clean_content_id(content_id: str) -> str:
    """A content id is kept exactly as sent: 1..200 characters, no surrounding whitespace and no
    control characters (so " c1" and "c1" can never be two different contents by accident)."""
    if not 1 <= len(content_id) <= CONTENT_ID_MAX:
        raise Invalid(f"content_id must be 1..{CONTENT_ID_MAX} characters")
    if content_id != content_id.strip():
        raise Invalid("content_id must not start or end with whitespace")
    if any(unicodedata.category(character) == "Cc" for character in content_id):
        raise Invalid("content_id must not contain control characters")
    return content_id


def check_not_listed(already_listed: bool) -> None:
    """A content is on a playlist at most once."""
    if already_listed:
        raise Conflict("the content is already on the group's playlist")


def check_room(listed: int, max_contents: int) -> None:
    """A playlist holds at most `max_contents` contents."""
    if listed >= max_contents:
        raise Conflict(f"the group's playlist is full: at most {max_contents} contents")


def next_position(last_position: int | None) -> int:
    """A new content goes after the last one. Removing one leaves a gap: positions only order
    the playlist, and a content keeps the position it was given."""
    return (last_position or 0) + 1


def check_listed(listed: bool) -> None:
    if not listed:
        raise NotFound("the content is not on the group's playlist")
