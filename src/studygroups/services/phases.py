"""Moving a round to its next phase and the phase timer it then runs: shared by the manual
advance (services/sessions.py), the timer actions and the phase clock (services/clock.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from studygroups.domain import rounds as round_rules
from studygroups.domain import timer as timer_rules
from studygroups.domain.activity import ActivityType
from studygroups.domain.events import RoundAdvanced
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.timer import Timer, TimerState
from studygroups.services import results
from studygroups.services.answers import TimerView
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import deadlines
from studygroups.storage import sessions as session_rows
from studygroups.storage.event_log import StoredEvent, iso_timestamp
from studygroups.storage.tables import Activity, GroupSession, Round

Json = dict[str, object]


def acted(activity: Sequence[Activity], kind: ActivityType) -> set[str]:
    """Who submitted `kind` among these activity rows (a repeat counts once)."""
    return {a.user_id for a in activity if a.event_type == kind}


def timer_of(row: Round) -> Timer:
    ends_at = deadlines.as_utc(row.ends_at) if row.ends_at is not None else None
    return Timer(TimerState(row.timer_state), ends_at, row.timer_remaining_ms)


def store_timer(row: Round, timer: Timer) -> None:
    row.timer_state, row.ends_at, row.timer_remaining_ms = (
        timer.state,
        timer.ends_at,
        timer.remaining_ms,
    )


def phase_seconds(row: Round, status: RoundStatus) -> int | None:
    name = timer_rules.PHASE_TIMER.get(status)
    return None if name is None else int(getattr(row, name))


def timer_json(row: Round, now: datetime) -> TimerView:
    """The round's `timer` object: state, ends_at while RUNNING, remaining_sec."""
    timer = timer_of(row)
    remaining = timer.remaining(now)
    return {
        "state": str(timer.state),
        "ends_at": iso_timestamp(timer.ends_at)
        if timer.state is TimerState.RUNNING and timer.ends_at
        else None,
        "remaining_sec": None if remaining is None else remaining / 1000,
    }


def iso_or_none(moment: datetime | None) -> str | None:
    return iso_timestamp(moment) if moment is not None else None


async def move_round(
    uow: UnitOfWork,
    session: GroupSession,
    row: Round,
    target: RoundStatus,
    *,
    force: bool,
    auto: bool = False,
) -> list[StoredEvent]:
    """Check the step and its gate, move the round, start the new phase's timer and record
    `round.advanced` (then `round.results` when a vote closes)."""
    activity = await session_rows.activity(uow.db, session.id, round_id=row.id)
    current = RoundStatus(row.status)
    members = await results.voters(uow, session.id, session.group_id)
    round_rules.check_advance(
        current,
        target,
        members=members,
        voted=acted(activity, ActivityType.PI_VOTE_SUBMIT),
        revoted=acted(activity, ActivityType.PI_REVOTE_SUBMIT),
        has_explanation=await session_rows.shared_card(uow.db, row.id) is not None,
        force=force,
    )
    now = uow.now()
    seconds = phase_seconds(row, target)
    timer = timer_rules.enter_phase(target, seconds, now)
    row.status, row.status_changed_at = target, now
    store_timer(row, timer)
    return await uow.record(
        session.id,
        RoundAdvanced(
            session.id,
            round_id=row.id,
            round_index=row.round_index,
            status=target,
            previous_status=current,
            correct_option=row.correct_option,
            ends_at=iso_or_none(timer.ends_at),
            duration_sec=seconds if timer.state is TimerState.RUNNING else None,
            auto=auto,
        ),
        *results.closing_results(session.id, row, current, activity, members),
    )


async def stop_timers(uow: UnitOfWork, session_id: str) -> None:
    """The session left RUNNING: no round's deadline fires any more."""
    for row in await session_rows.rounds(uow.db, session_id):
        store_timer(row, timer_rules.STOPPED)
