"""Response models of the results and report endpoints (snake_case), for OpenAPI; no logic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from studygroups.domain.rounds import RoundStatus
from studygroups.services.answers import SessionSummary


class Tally(BaseModel):
    counts: dict[str, int] = Field(
        description="Every option (zeros included), then any other choice cast"
    )
    total: int


class Switch(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="The vote")
    to: str = Field(description="The revote (equal to `from` when the answer was kept)")
    count: int


class Correct(BaseModel):
    vote_pct: float | None = Field(description="Correct votes, percent 0..100, one decimal")
    revote_pct: float | None = Field(description="Correct revotes, percent 0..100, one decimal")
    normalized_change: float | None = Field(
        description="(revote_pct - vote_pct) / (100 - vote_pct), three decimals; "
        "null when vote_pct is 100 or either is null"
    )


class RoundResults(BaseModel):
    """A round's results; parts a member may not see yet are null (facilitators see all)."""

    round_index: int
    status: RoundStatus
    options: list[str] | None
    eligible: int = Field(description="Session members who may vote (still ACTIVE in the group)")
    vote: Tally | None = Field(description="null to members while CREATED or VOTING")
    revote: Tally | None = Field(description="null to members until the round is past REVOTING")
    switches: list[Switch] | None = Field(
        description="Over users who voted and revoted; null to members until past REVOTING"
    )
    correct_option: str | None = Field(description="null to members until DONE")
    correct: Correct | None = Field(
        description="null to members until DONE, and when no correct option is set"
    )


class Explanation(BaseModel):
    explanation: str
    group_choice: str | None
    key_terms: list[str]


class ReportRound(BaseModel):
    round_index: int
    prompt_text: str | None
    options: list[str] | None
    correct_option: str | None
    results: RoundResults
    explanation: Explanation | None = Field(description="The shared card, or null")
    chat_messages: int = Field(description="Messages posted in this round")


class MemberRound(BaseModel):
    round_index: int
    vote: str | None
    revote: str | None
    vote_correct: bool | None = Field(description="null without a correct option or a vote")
    revote_correct: bool | None = Field(description="null without a correct option or a revote")
    chat_messages: int = Field(description="Messages this member posted in this round")


class ReportMember(BaseModel):
    user_id: str
    user_name: str
    session_role: str
    chat_messages: int = Field(description="Messages this member posted in the session")
    rounds: list[MemberRound]


class Report(BaseModel):
    session: SessionSummary
    rounds: list[ReportRound]
    members: list[ReportMember]
