"""A round's phase timer: RUNNING / PAUSED / EXPIRED / NONE and what is left under each action.

Pure: every function takes `now`; the services read the clock. A RUNNING timer has `ends_at`;
a PAUSED one keeps `remaining_ms`; an EXPIRED one keeps the `ends_at` that passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from studygroups.domain.errors import Conflict, Forbidden, Invalid
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import SessionRole

PHASE_SEC_MIN = 5
PHASE_SEC_MAX = 3600
ACTION_SEC_MIN = 1
ACTION_SEC_MAX = 3600

# The prompt body's `timers` keys, per timed phase.
PHASE_TIMER: dict[RoundStatus, str] = {
    RoundStatus.VOTING: "vote_sec",
    RoundStatus.DISCUSSING: "discuss_sec",
    RoundStatus.REVOTING: "revote_sec",
    RoundStatus.EXPLAINING: "explain_sec",
}


class TimerState(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    EXPIRED = "EXPIRED"
    NONE = "NONE"


class TimerAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    SET = "set"


@dataclass(frozen=True)
class Timer:
    state: TimerState
    ends_at: datetime | None = None
    remaining_ms: int | None = None

    def remaining(self, now: datetime) -> int | None:
        """Milliseconds left: counting down while RUNNING, frozen while PAUSED, 0 once EXPIRED."""
        if self.state is TimerState.RUNNING and self.ends_at is not None:
            return max(0, _ms(self.ends_at - now))
        if self.state is TimerState.PAUSED:
            return self.remaining_ms
        if self.state is TimerState.EXPIRED:
            return 0
        return None

    def is_due(self, now: datetime) -> bool:
        return self.state is TimerState.RUNNING and self.ends_at is not None and self.ends_at <= now


STOPPED = Timer(TimerState.NONE)
# What extending may leave on a timer: a day, far below the 24.8 days of milliseconds a
# PAUSED timer's 32-bit column holds (each extend adds at most an hour, so it grew without end).
LEFT_MAX_MS = 24 * 3_600_000


def _ms(delta: timedelta) -> int:
    return math.ceil(delta / timedelta(milliseconds=1))


def is_timed(status: RoundStatus) -> bool:
    return status in PHASE_TIMER


def check_can_keep_time(facilitates: bool, session_role: SessionRole | None) -> None:
    """A facilitator or the session's TIMEKEEPER acts on timers."""
    if not facilitates and session_role is not SessionRole.TIMEKEEPER:
        raise Forbidden("only a facilitator or the session's TIMEKEEPER may change the timer")


def check_phase_seconds(name: str, seconds: int) -> None:
    if not PHASE_SEC_MIN <= seconds <= PHASE_SEC_MAX:
        raise Invalid(f"timers.{name} must be {PHASE_SEC_MIN}..{PHASE_SEC_MAX}")


def enter_phase(status: RoundStatus, seconds: int | None, now: datetime) -> Timer:
    """The timer a round gets when it enters `status`: RUNNING for `seconds` in a timed phase."""
    if not is_timed(status) or seconds is None:
        return STOPPED
    return Timer(TimerState.RUNNING, ends_at=now + timedelta(seconds=seconds))


def apply(timer: Timer, action: TimerAction, seconds: int | None, now: datetime) -> Timer:
    """The timer after a facilitator's or timekeeper's action; Conflict when it cannot apply."""
    if timer.state is TimerState.NONE:
        raise Conflict("the round is not in a timed phase")
    if action in (TimerAction.EXTEND, TimerAction.SET):
        if seconds is None or not ACTION_SEC_MIN <= seconds <= ACTION_SEC_MAX:
            raise Invalid(f"{action} needs seconds {ACTION_SEC_MIN}..{ACTION_SEC_MAX}")
        added = timedelta(seconds=seconds)
        if action is TimerAction.SET or timer.state is TimerState.EXPIRED:
            return Timer(TimerState.RUNNING, ends_at=now + added)
        left = timer.remaining(now) or 0  # a deadline passed but not yet fired counts as 0
        if left + seconds * 1000 > LEFT_MAX_MS:
            raise Invalid(f"a timer holds at most {LEFT_MAX_MS // 3_600_000} hours")
        if timer.state is TimerState.PAUSED:
            return Timer(TimerState.PAUSED, remaining_ms=left + seconds * 1000)
        assert timer.ends_at is not None
        return Timer(TimerState.RUNNING, ends_at=max(timer.ends_at, now) + added)
    if seconds is not None:
        raise Invalid(f"{action} takes no seconds")
    if action is TimerAction.PAUSE:
        if timer.state is not TimerState.RUNNING:
            raise Conflict(f"the timer is {timer.state}, not RUNNING")
        return Timer(TimerState.PAUSED, remaining_ms=timer.remaining(now))
    if timer.state is not TimerState.PAUSED:
        raise Conflict(f"the timer is {timer.state}, not PAUSED")
    return Timer(TimerState.RUNNING, ends_at=now + timedelta(milliseconds=timer.remaining_ms or 0))


def expire(timer: Timer, now: datetime) -> Timer:
    """The deadline passed: EXPIRED, keeping the ends_at it had; Conflict when not due."""
    if not timer.is_due(now):
        raise Conflict("the timer is not due")
    return Timer(TimerState.EXPIRED, ends_at=timer.ends_at)
