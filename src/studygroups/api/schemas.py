"""Request bodies (snake_case), validated strictly, and the answers OpenAPI documents; no logic."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from studygroups.api.timer_schemas import PromptTimers
from studygroups.domain.groups import MemberRole, MemberStatus
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import Layer, SessionStatus


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateGroup(Body):
    name: StrictStr = Field(min_length=1, max_length=200)
    scope_type: StrictStr | None = Field(default=None, max_length=64)
    scope_id: StrictStr | None = Field(default=None, max_length=200)


class InviteMember(Body):
    user_id: StrictStr = Field(min_length=1, max_length=255)
    role: MemberRole = MemberRole.MEMBER


class UpdateGroup(Body):
    """Only the fields sent change; `scope_type: null` / `scope_id: null` clear them."""

    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    scope_type: StrictStr | None = Field(default=None, max_length=64)
    scope_id: StrictStr | None = Field(default=None, max_length=200)


class ChangeRole(Body):
    role: MemberRole


class AddContent(Body):
    content_id: StrictStr = Field(min_length=1, max_length=200)


class CreateSession(Body):
    rounds_count: StrictInt = Field(ge=1, le=10)
    mode: StrictStr = Field(default="PI", min_length=1, max_length=32)
    layer: Layer = Layer.L1
    content_id: StrictStr | None = Field(default=None, max_length=200)
    auto_advance: StrictBool = False


class SetStatus(Body):
    status: SessionStatus


class UpdatePrompt(Body):
    prompt_text: StrictStr = Field(min_length=1, max_length=2000)
    options: list[StrictStr] | None = Field(default=None, max_length=20)
    linked_highlight_ids: list[StrictStr] | None = Field(default=None, max_length=100)
    correct_option: StrictStr | None = Field(
        default=None,
        max_length=500,
        description="One of `options`; null clears it; left out, it stays while still an option."
        " Only facilitators see it before the round is DONE.",
    )
    timers: PromptTimers | None = None


class Advance(Body):
    to_status: RoundStatus
    force: StrictBool = False


class SubmitActivity(Body):
    round_index: StrictInt = Field(ge=1, le=10)
    event_type: StrictStr = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


class PostChat(Body):
    round_index: StrictInt = Field(ge=1, le=10)
    message: StrictStr = Field(max_length=20_000)


# --- answers (documentation only: routes build their JSON in services/views.py) ----------------


class ErrorAnswer(BaseModel):
    """Every error answer (docs/api.md, "Errors"); some add fields."""

    statusCode: int  # noqa: N815 -- the contract's camelCase field
    error: str
    message: str


class GroupAnswer(BaseModel):
    id: str
    name: str
    scope_type: str | None
    scope_id: str | None
    created_by: str
    created_at: str


class MyGroupAnswer(GroupAnswer):
    my_role: MemberRole
    my_status: MemberStatus


class MemberAnswer(BaseModel):
    user_id: str
    user_name: str
    email: str | None
    role: MemberRole
    status: MemberStatus
    invited_by: str | None
    updated_at: str


class MembershipAnswer(MemberAnswer):
    group_id: str


class ContentAnswer(BaseModel):
    """A content of the group's playlist."""

    content_id: str
    position: int
    added_by: str
    added_at: str


class GroupDetailAnswer(GroupAnswer):
    members: list[MemberAnswer]
    contents: list[ContentAnswer] = Field(description="the playlist, in position order")
