"""The shapes of the JSON answers the session, activity, chat, feed and presence use cases build.

Written once: services build these (mypy checks every key), and the REST routes declare the same
classes as their response models, so /openapi.json documents what is really sent. Field names
are the contract's (docs/api.md); changing one here changes the API.
"""

from __future__ import annotations

from typing import Any, NotRequired

# pydantic reads TypedDicts from typing_extensions only on Python < 3.12.
from typing_extensions import TypedDict


class SessionSummary(TypedDict):
    """A session without its rounds and members; `seq` is its last durable event's (0: none)."""

    id: str
    group_id: str
    status: str
    mode: str
    layer: str
    content_id: str | None
    rounds_count: int
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    seq: int


class Timers(TypedDict):
    vote_sec: int
    discuss_sec: int
    revote_sec: int
    explain_sec: int


class RoundView(TypedDict):
    id: str
    round_index: int
    status: str
    prompt_text: str | None
    options: list[str] | None
    linked_highlight_ids: list[str] | None
    timers: Timers
    status_changed_at: str | None


class TimerView(TypedDict):
    """A round's phase timer (API.md §5): ends_at while RUNNING, remaining_sec while PAUSED."""

    state: str
    ends_at: str | None
    remaining_sec: float | None


class VoteProgress(TypedDict):
    """Counts the session members still ACTIVE in the group: those the gates wait for."""

    required: int
    voted: int
    revoted: int
    voted_user_ids: list[str]
    revoted_user_ids: list[str]


class SessionRound(RoundView):
    vote_progress: VoteProgress
    has_shared_card: bool
    correct_option: str | None
    timer: TimerView


class SessionMember(TypedDict):
    user_id: str
    user_name: str
    role: str
    attendance_status: str


class SharedCard(TypedDict):
    id: str
    session_id: str
    round_id: str
    round_index: int
    created_by: str
    explanation: str
    group_choice: str | None
    key_terms: list[str]
    created_at: str
    updated_at: str


class SessionDetail(SessionSummary):
    members: list[SessionMember]
    rounds: list[SessionRound]
    shared_cards: list[SharedCard]
    viewer_can_facilitate: bool
    auto_advance: bool
    server_time: str


class PromptAnswer(RoundView):
    """The round after a prompt change; `seq` is its `prompt.updated`'s."""

    correct_option: str | None
    timer: TimerView
    seq: int


class AdvanceAnswer(PromptAnswer):
    """The round after an advance; `seq` is the last event recorded (`round.results` when the
    advance closes a vote, else `round.advanced`)."""

    session_id: str
    previous_status: str


class ActivityEntry(TypedDict):
    """A vote, revote or explanation; a hidden choice is left out of `payload`."""

    id: str
    session_id: str
    round_id: str
    round_index: int
    user_id: str
    event_type: str
    payload: dict[str, Any]
    choice_hidden: bool
    created_at: str
    updated_at: str


class SubmitAnswer(TypedDict):
    """`shared_card` only for an explanation; `seq` is the event the submission recorded."""

    activity: ActivityEntry
    shared_card: NotRequired[SharedCard]
    seq: int


class ChatMessage(TypedDict):
    """`user_role`: the author's session role, null for a member who joined later."""

    id: str
    session_id: str
    round_index: int
    user_id: str
    user_name: str
    user_role: str | None
    message: str
    seq: int
    created_at: str


class ReadCursor(TypedDict):
    user_id: str
    message_id: str
    updated_at: str


class ChatLog(TypedDict):
    messages: list[ChatMessage]
    read_cursors: list[ReadCursor]


class StoredEvent(TypedDict):
    """A durable event as stored: `data` is the payload as broadcast (camelCase)."""

    seq: int
    event: str
    data: dict[str, Any]
    created_at: str


class Feed(TypedDict):
    """The log after `after_seq`; `seq` is the session's head."""

    events: list[StoredEvent]
    has_more: bool
    seq: int


class PresentUser(TypedDict):
    """camelCase, as in a joinSession answer's `presence`."""

    userId: str
    userName: str


class PresenceAnswer(TypedDict):
    session_id: str
    presence: list[PresentUser]
