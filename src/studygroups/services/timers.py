"""Timer and settings use cases: pause/resume/extend/set a round's timer, auto_advance."""

from __future__ import annotations

from studygroups.domain import sessions as session_rules
from studygroups.domain import timer as timer_rules
from studygroups.domain.errors import Conflict
from studygroups.domain.events import RoundTimerChanged, SessionSettingsChanged
from studygroups.domain.permissions import check_can_facilitate
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.timer import TimerAction, TimerState
from studygroups.identity import Identity
from studygroups.services import phases, views
from studygroups.services.access import load_session
from studygroups.services.sessions import load_round, session_detail
from studygroups.services.unit_of_work import UnitOfWork


async def change_timer(
    uow: UnitOfWork,
    actor: Identity,
    session_id: str,
    round_index: int,
    action: TimerAction,
    seconds: int | None,
) -> views.Json:
    """The facilitator or the session's TIMEKEEPER acts on a round's timer in a timed phase."""
    access = await load_session(uow, session_id, actor.user_id, lock=True)
    timer_rules.check_can_keep_time(access.facilitates, access.session_role)
    session_rules.check_running(access.status)
    row = await load_round(uow, access.session, round_index)
    status = RoundStatus(row.status)
    if not timer_rules.is_timed(status):
        raise Conflict(f"the round is {status}, not in a timed phase")
    now = uow.now()
    timer = timer_rules.apply(phases.timer_of(row), action, seconds, now)
    phases.store_timer(row, timer)
    remaining = timer.remaining(now)
    [event] = await uow.record(
        session_id,
        RoundTimerChanged(
            session_id,
            round_id=row.id,
            round_index=row.round_index,
            status=status,
            action=str(action),
            state=str(timer.state),
            ends_at=phases.iso_or_none(timer.ends_at)
            if timer.state is TimerState.RUNNING
            else None,
            remaining_sec=None if remaining is None else remaining / 1000,
            by=actor.user_id,
        ),
    )
    return {
        **views.round_(row),
        "timer": phases.timer_json(row, now),
        "session_id": session_id,
        "seq": event.seq,
    }


async def change_settings(
    uow: UnitOfWork, actor: Identity, session_id: str, auto_advance: bool
) -> views.Json:
    """The facilitator turns auto-advance on or off; the answer is the session detail."""
    access = await load_session(uow, session_id, actor.user_id, lock=True)
    check_can_facilitate(access.group_role, access.group_status, access.session_role)
    session_rules.check_not_finished(access.status)
    session = access.session
    session.auto_advance = auto_advance
    [event] = await uow.record(
        session_id, SessionSettingsChanged(session_id, auto_advance=auto_advance, by=actor.user_id)
    )
    return {**await session_detail(uow, session, viewer_facilitates=True), "seq": event.seq}
