"""Request bodies (snake_case), validated strictly, and the answers OpenAPI documents; no logic."""

from __future__ import annotations

from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from studygroups.api.timer_schemas import PromptTimers
from studygroups.domain.groups import MemberRole, MemberStatus
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import Layer, SessionStatus

NUL = "\x00"


def holds_nul(value: object) -> bool:
    """Whether a NUL character is in this text, or in any key or text inside it."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(v) for v in value)
    return False


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        # PostgreSQL text and JSON cannot hold NUL (SQLite can): refused on every database alike.
        if holds_nul(self.model_dump()):
            raise ValueError("text must not contain NUL characters (\\u0000)")
        return self


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
    error: str = Field(description="The status's standard reason phrase")
    message: str = Field(description="For people; may change")


class Problem(BaseModel):
    field: str = Field(description="Where, dotted (`payload.choice`); empty for the whole body")
    problem: str


class InvalidAnswer(ErrorAnswer):
    """400: `details` when the request failed schema validation."""

    details: list[Problem] = Field(default_factory=list)


class GateAnswer(ErrorAnswer):
    """409 of an advance: a gate that is not met adds `required`, `current` and `missing`."""

    required: int = Field(default=0, description="How many must act (gates only)")
    current: int = Field(default=0, description="How many have acted (gates only)")
    missing: list[str] = Field(
        default_factory=list, description="User ids still to act, sorted (gates only)"
    )


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


class HealthAnswer(BaseModel):
    status: str = Field(description='"ok" while the process is up')


class ReadinessAnswer(BaseModel):
    status: str = Field(description='"ready" (200) or "not ready" (503)')
    checks: dict[str, str] = Field(
        description='Each check: "ok", "unavailable", or for the database "not migrated"'
    )
