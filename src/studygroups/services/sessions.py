"""Session use cases: create, read, start, change status, prompt, advance a round, read the log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from studygroups.domain import results as result_rules
from studygroups.domain import rounds as round_rules
from studygroups.domain import sessions as session_rules
from studygroups.domain import timer as timer_rules
from studygroups.domain.activity import ActivityType
from studygroups.domain.errors import Conflict, Invalid, NotFound
from studygroups.domain.events import (
    SEQ_STORED_MAX,
    PromptUpdated,
    SessionEnded,
    SessionStarted,
    SessionStatusChanged,
)
from studygroups.domain.permissions import check_can_facilitate
from studygroups.domain.results import UNCHANGED, Unchanged
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import Layer, SessionStatus
from studygroups.domain.timer import TimerState
from studygroups.identity import Identity
from studygroups.services import answers, phases, results, views
from studygroups.services.access import SessionAccess, check_group_member, load_session
from studygroups.services.phases import acted
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import event_log, users
from studygroups.storage import groups as group_rows
from studygroups.storage import sessions as session_rows
from studygroups.storage.event_log import iso_timestamp
from studygroups.storage.tables import GroupSession, Round, SessionMember

FEED_DEFAULT_LIMIT = 500
FEED_MAX_LIMIT = 1000


async def create_session(
    uow: UnitOfWork,
    actor: Identity,
    group_id: str,
    rounds_count: int,
    mode: str,
    layer: Layer,
    content_id: str | None,
    auto_advance: bool = False,
) -> answers.SessionDetail:
    """Every ACTIVE member joins with a dealt role; rounds start CREATED with the layer's timers."""
    session_rules.check_rounds_count(rounds_count)
    if not mode.strip() or len(mode) > session_rules.MODE_MAX:
        raise Invalid(f"mode must be 1..{session_rules.MODE_MAX} characters")
    if content_id is not None and len(content_id) > session_rules.CONTENT_ID_MAX:
        raise Invalid(f"content_id must be at most {session_rules.CONTENT_ID_MAX} characters")
    group = await group_rows.lock(uow.db, group_id)
    if group is None:
        raise NotFound("group not found")
    await check_group_member(uow, group_id, actor.user_id)
    active = await group_rows.active_member_ids(uow.db, group_id)
    session_rules.check_enough_members(len(active))
    roles = session_rules.deal_roles(active, await group_rows.finished_sessions(uow.db, group_id))
    now = uow.now()
    session = GroupSession(
        id=str(uuid.uuid4()),
        group_id=group_id,
        status=SessionStatus.CREATED,
        mode=mode.strip(),
        layer=layer,
        content_id=content_id,
        rounds_count=rounds_count,
        created_by=actor.user_id,
        last_seq=0,
        created_at=now,
        started_at=None,
        finished_at=None,
        auto_advance=auto_advance,
    )
    uow.db.add(session)
    await uow.db.flush()
    for user_id, role in roles.items():
        uow.db.add(
            SessionMember(
                session_id=session.id,
                user_id=user_id,
                role=role,
                attendance_status="PRESENT",
                created_at=now,
            )
        )
    timers = session_rules.LAYER_TIMERS[layer]
    for index in range(1, rounds_count + 1):
        uow.db.add(
            Round(
                id=str(uuid.uuid4()),
                session_id=session.id,
                round_index=index,
                status=RoundStatus.CREATED,
                prompt_text=None,
                options=None,
                linked_highlight_ids=None,
                vote_sec=timers.vote_sec,
                discuss_sec=timers.discuss_sec,
                revote_sec=timers.revote_sec,
                explain_sec=timers.explain_sec,
                status_changed_at=None,
                created_at=now,
                timer_state=TimerState.NONE,
            )
        )
    await uow.db.flush()
    return await session_detail(uow, session, viewer_facilitates=True)


async def session_detail(
    uow: UnitOfWork, session: GroupSession, *, viewer_facilitates: bool
) -> answers.SessionDetail:
    """The full session: rounds with vote progress, members with roles, shared cards, seq."""
    members = await session_rows.members(uow.db, session.id)
    names = await users.names(uow.db, [m.user_id for m in members])
    rounds = await session_rows.rounds(uow.db, session.id)
    activity = await session_rows.activity(uow.db, session.id)
    cards = await session_rows.shared_cards(uow.db, session.id)
    index_of = {r.id: r.round_index for r in rounds}
    # Progress counts those the gates wait for, so `required` matches a gate's 409.
    eligible = set(await results.voters(uow, session.id, session.group_id, members))
    rounds_json: list[answers.SessionRound] = []
    now = uow.now()
    for row in rounds:
        of_round = [a for a in activity if a.round_id == row.id and a.user_id in eligible]
        voted = sorted(acted(of_round, ActivityType.PI_VOTE_SUBMIT))
        revoted = sorted(acted(of_round, ActivityType.PI_REVOTE_SUBMIT))
        rounds_json.append(
            {
                **views.round_(row),
                "vote_progress": {
                    "required": len(eligible),
                    "voted": len(voted),
                    "revoted": len(revoted),
                    "voted_user_ids": voted,
                    "revoted_user_ids": revoted,
                },
                "has_shared_card": any(c.round_id == row.id for c in cards),
                "correct_option": results.visible_correct_option(
                    row, facilitates=viewer_facilitates
                ),
                "timer": phases.timer_json(row, now),
            }
        )
    return {
        **views.session_summary(session),
        "members": [
            {
                "user_id": m.user_id,
                "user_name": names[m.user_id],
                "role": m.role,
                "attendance_status": m.attendance_status,
            }
            for m in members
        ],
        "rounds": rounds_json,
        "shared_cards": [views.shared_card(c, index_of[c.round_id]) for c in cards],
        "viewer_can_facilitate": viewer_facilitates,
        "auto_advance": session.auto_advance,
        "server_time": iso_timestamp(now),
    }


async def get_session(uow: UnitOfWork, actor: Identity, session_id: str) -> answers.SessionDetail:
    access = await load_session(uow, session_id, actor.user_id)
    return await session_detail(uow, access.session, viewer_facilitates=access.facilitates)


async def _facilitated(uow: UnitOfWork, actor: Identity, session_id: str) -> SessionAccess:
    access = await load_session(uow, session_id, actor.user_id, lock=True)
    check_can_facilitate(access.group_role, access.group_status, access.session_role)
    return access


async def start_session(uow: UnitOfWork, actor: Identity, session_id: str) -> answers.SessionDetail:
    access = await _facilitated(uow, actor, session_id)
    if access.status is not SessionStatus.CREATED:
        session_rules.check_not_finished(access.status)
        raise Conflict(f"the session is {access.status}; only CREATED can start")
    session = access.session
    session.status, session.started_at = SessionStatus.RUNNING, uow.now()
    [event] = await uow.record(session.id, SessionStarted(session.id, started_by=actor.user_id))
    return {**await session_detail(uow, session, viewer_facilitates=True), "seq": event.seq}


async def set_session_status(
    uow: UnitOfWork, actor: Identity, session_id: str, target: SessionStatus
) -> answers.SessionDetail:
    if target not in (SessionStatus.POST, SessionStatus.FINISHED):
        raise Invalid("status must be POST or FINISHED")
    access = await _facilitated(uow, actor, session_id)
    session_rules.check_session_transition(access.status, target)
    session = access.session
    session.status = target
    await phases.stop_timers(uow, session.id)  # deadlines run only while RUNNING
    if target is SessionStatus.FINISHED:
        session.finished_at = uow.now()
        [event] = await uow.record(session.id, SessionEnded(session.id))
    else:
        [event] = await uow.record(session.id, SessionStatusChanged(session.id, status=str(target)))
    return {**await session_detail(uow, session, viewer_facilitates=True), "seq": event.seq}


async def load_round(uow: UnitOfWork, session: GroupSession, round_index: int) -> Round:
    round_rules.check_round_index(round_index, session.rounds_count)
    row = await session_rows.round_at(uow.db, session.id, round_index)
    if row is None:
        raise NotFound("round not found")
    return row


async def update_prompt(
    uow: UnitOfWork,
    actor: Identity,
    session_id: str,
    round_index: int,
    prompt_text: str,
    options: Sequence[str] | None,
    linked_highlight_ids: Sequence[str] | None,
    correct_option: str | Unchanged | None = UNCHANGED,
    timers: Mapping[str, int] | None = None,
) -> answers.PromptAnswer:
    """Replace the prompt and options; `correct_option` left out stays while still an option.
    `timers` sets the round's phase seconds for the phases it enters from now on."""
    access = await _facilitated(uow, actor, session_id)
    session_rules.check_not_finished(access.status)
    row = await load_round(uow, access.session, round_index)
    text, cleaned_options, highlights = round_rules.clean_prompt(
        prompt_text, options, linked_highlight_ids
    )
    row.correct_option = (
        result_rules.kept_correct_option(row.correct_option, cleaned_options)
        if isinstance(correct_option, Unchanged)
        else result_rules.clean_correct_option(correct_option, cleaned_options)
    )
    row.prompt_text, row.options = text, cleaned_options
    if highlights is not None:
        row.linked_highlight_ids = highlights
    for name, seconds in (timers or {}).items():
        timer_rules.check_phase_seconds(name, seconds)
        setattr(row, name, seconds)
    [event] = await uow.record(
        session_id,
        PromptUpdated(
            session_id,
            round_id=row.id,
            round_index=round_index,
            prompt=text,
            options=cleaned_options,
        ),
    )
    return {
        **views.round_(row),
        "correct_option": row.correct_option,
        "timer": phases.timer_json(row, uow.now()),
        "seq": event.seq,
    }


async def advance_round(
    uow: UnitOfWork,
    actor: Identity,
    session_id: str,
    round_index: int,
    target: RoundStatus,
    force: bool,
) -> answers.AdvanceAnswer:
    access = await _facilitated(uow, actor, session_id)
    session_rules.check_running(access.status)
    row = await load_round(uow, access.session, round_index)
    current = RoundStatus(row.status)
    recorded = await phases.move_round(uow, access.session, row, target, force=force)
    return {
        **views.round_(row),
        "correct_option": row.correct_option,
        "timer": phases.timer_json(row, uow.now()),
        "session_id": session_id,
        "previous_status": current,
        "seq": recorded[-1].seq,  # round.results follows round.advanced when a vote closes
    }


async def read_feed(
    uow: UnitOfWork, actor: Identity, session_id: str, after_seq: int, limit: int
) -> answers.Feed:
    """The durable log after `after_seq`, in order, for members."""
    if not 0 <= after_seq <= SEQ_STORED_MAX:
        raise Invalid(f"after_seq must be 0..{SEQ_STORED_MAX}")
    if not 1 <= limit <= FEED_MAX_LIMIT:
        raise Invalid(f"limit must be 1..{FEED_MAX_LIMIT}")
    access = await load_session(uow, session_id, actor.user_id)
    events = await event_log.read_after(uow.db, session_id, after_seq, limit + 1)
    return {
        "events": [
            {"seq": e.seq, "event": e.event, "data": e.data, "created_at": e.created_at}
            for e in events[:limit]
        ],
        "has_more": len(events) > limit,
        "seq": access.session.last_seq,
    }
