"""Session lifecycle CREATED → RUNNING → POST → FINISHED, settings, and role dealing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from studygroups.domain.errors import Conflict, Invalid


class SessionStatus(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    POST = "POST"
    FINISHED = "FINISHED"


class SessionRole(StrEnum):
    FACILITATOR = "FACILITATOR"
    SCRIBE = "SCRIBE"
    TIMEKEEPER = "TIMEKEEPER"
    CLARIFIER = "CLARIFIER"
    CONNECTOR = "CONNECTOR"
    PARTICIPANT = "PARTICIPANT"


class Layer(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


# The roles handed out first, in this order; everyone after the fifth is a PARTICIPANT.
DEALT_ROLES = (
    SessionRole.FACILITATOR,
    SessionRole.SCRIBE,
    SessionRole.TIMEKEEPER,
    SessionRole.CLARIFIER,
    SessionRole.CONNECTOR,
)

MIN_MEMBERS = 2
MIN_ROUNDS = 1
MAX_ROUNDS = 10
MODE_MAX = 32
CONTENT_ID_MAX = 200


@dataclass(frozen=True)
class Timers:
    """Seconds for each timed phase of a round."""

    vote_sec: int
    discuss_sec: int
    revote_sec: int
    explain_sec: int


LAYER_TIMERS: dict[Layer, Timers] = {
    Layer.L1: Timers(vote_sec=60, discuss_sec=180, revote_sec=60, explain_sec=180),
    Layer.L2: Timers(vote_sec=90, discuss_sec=240, revote_sec=90, explain_sec=240),
    Layer.L3: Timers(vote_sec=90, discuss_sec=240, revote_sec=90, explain_sec=240),
}


def check_rounds_count(rounds_count: int) -> None:
    if not MIN_ROUNDS <= rounds_count <= MAX_ROUNDS:
        raise Invalid(f"rounds_count must be {MIN_ROUNDS}..{MAX_ROUNDS}")


def check_enough_members(active_members: int) -> None:
    if active_members < MIN_MEMBERS:
        raise Conflict(
            f"a session needs at least {MIN_MEMBERS} active members; the group has {active_members}"
        )


def deal_roles(member_ids: Iterable[str], finished_sessions: int) -> dict[str, SessionRole]:
    """Members sorted by id, rotated left by the group's finished sessions, get the roles in order.

    The rotation means each finished session hands the FACILITATOR role to the next member,
    so roles circulate over a group's sessions while staying deterministic.
    """
    ordered = sorted(set(member_ids))
    if not ordered:
        return {}
    shift = finished_sessions % len(ordered)
    rotated = ordered[shift:] + ordered[:shift]
    return {
        user_id: DEALT_ROLES[i] if i < len(DEALT_ROLES) else SessionRole.PARTICIPANT
        for i, user_id in enumerate(rotated)
    }


# Which status changes `PUT /group-sessions/:id/status` and `/start` may make.
_NEXT_STATUSES: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.CREATED: frozenset({SessionStatus.RUNNING, SessionStatus.FINISHED}),
    SessionStatus.RUNNING: frozenset({SessionStatus.POST, SessionStatus.FINISHED}),
    SessionStatus.POST: frozenset({SessionStatus.FINISHED}),
    SessionStatus.FINISHED: frozenset(),
}


def check_not_finished(status: SessionStatus) -> None:
    """A FINISHED session is read-only."""
    if status is SessionStatus.FINISHED:
        raise Conflict("the session is finished and read-only")


def check_session_transition(current: SessionStatus, target: SessionStatus) -> None:
    """Only forward moves along CREATED → RUNNING → POST → FINISHED (FINISHED from any state)."""
    check_not_finished(current)
    if target not in _NEXT_STATUSES[current]:
        raise Conflict(f"the session cannot go from {current} to {target}")


def check_running(status: SessionStatus) -> None:
    """Rounds move and activity is accepted only while the session is RUNNING."""
    check_not_finished(status)
    if status is not SessionStatus.RUNNING:
        raise Conflict(f"the session is {status}, not RUNNING")
