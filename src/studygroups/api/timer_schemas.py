"""Request bodies and answers of the phase clock: per-round timers, timer actions, settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from studygroups.domain.rounds import RoundStatus
from studygroups.domain.timer import (
    ACTION_SEC_MAX,
    ACTION_SEC_MIN,
    PHASE_SEC_MAX,
    PHASE_SEC_MIN,
    TimerAction,
    TimerState,
)

PhaseSeconds = Field(default=None, ge=PHASE_SEC_MIN, le=PHASE_SEC_MAX)


class PromptTimers(BaseModel):
    """A round's phase seconds (each 5..3600); those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    vote_sec: StrictInt | None = PhaseSeconds
    discuss_sec: StrictInt | None = PhaseSeconds
    revote_sec: StrictInt | None = PhaseSeconds
    explain_sec: StrictInt | None = PhaseSeconds


class ChangeTimer(BaseModel):
    action: TimerAction
    seconds: StrictInt | None = Field(
        default=None,
        ge=ACTION_SEC_MIN,
        le=ACTION_SEC_MAX,
        description="extend and set only: seconds to add (extend) or to run from now (set)",
    )


class ChangeSettings(BaseModel):
    auto_advance: StrictBool


class TimerAnswer(BaseModel):
    state: TimerState
    ends_at: str | None = Field(description="The deadline while RUNNING (ISO 8601 UTC), else null")
    remaining_sec: float | None = Field(
        description="Seconds left (ms precision): frozen while PAUSED, 0 once EXPIRED, null NONE"
    )


class TimedRoundAnswer(BaseModel):
    """A round with its timer, as the timer action answers it."""

    model_config = ConfigDict(extra="allow")

    id: str
    session_id: str
    round_index: int
    status: RoundStatus
    timers: dict[str, int]
    timer: TimerAnswer
    seq: int = Field(description="The seq of the round.timerChanged this change recorded")


class SessionSettingsAnswer(BaseModel):
    """The session detail after the change (fields beyond these as `GET /group-sessions/:id`)."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    auto_advance: bool
    server_time: str
    seq: int = Field(description="The seq of the session.settingsChanged this change recorded")
