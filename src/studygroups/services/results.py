"""Round results: the tallies a member may see now, and the final tally an advance records.

The arithmetic and the reveal rules are domain code (domain/results.py); this module loads the
ballots of the people the gates wait for and shapes the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from studygroups.domain import results as rules
from studygroups.domain.activity import ActivityType
from studygroups.domain.errors import Forbidden, NotFound
from studygroups.domain.events import DomainEvent, RoundResults
from studygroups.domain.results import Ballots, Reveal
from studygroups.domain.rounds import RoundStatus
from studygroups.identity import Identity
from studygroups.services import views
from studygroups.services.access import SessionAccess, load_session
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import groups as group_rows
from studygroups.storage import sessions as session_rows
from studygroups.storage.tables import Activity, Round, SessionMember

KIND_OF_PHASE = {
    rules.Phase.VOTE: ActivityType.PI_VOTE_SUBMIT,
    rules.Phase.REVOTE: ActivityType.PI_REVOTE_SUBMIT,
}


def ballots(activity: Sequence[Activity], kind: ActivityType, voters: Collection[str]) -> Ballots:
    """{user id: choice} of `kind` in these rows, for `voters` only (a repeat replaced the
    earlier row, so each user has at most one)."""
    allowed = set(voters)
    return {
        a.user_id: str(a.payload["choice"])
        for a in activity
        if a.event_type == kind and a.user_id in allowed and "choice" in a.payload
    }


def closing_results(
    session_id: str,
    row: Round,
    leaving: RoundStatus,
    activity: Sequence[Activity],
    voters: Collection[str],
) -> list[DomainEvent]:
    """`round.results` for an advance out of VOTING or REVOTING (none for other moves): the
    caller records it right after its `round.advanced`, so it takes the next seq."""
    phase = rules.CLOSES.get(leaving)
    if phase is None:
        return []
    tally = rules.tally(ballots(activity, KIND_OF_PHASE[phase], voters), row.options)
    return [
        RoundResults(
            session_id,
            round_id=row.id,
            round_index=row.round_index,
            phase=phase,
            counts=tally.counts,
            total=tally.total,
        )
    ]


def visible_correct_option(row: Round, *, facilitates: bool) -> str | None:
    """The correct option as this viewer may see it on a round (null until DONE for members)."""
    shown = rules.reveal(RoundStatus(row.status), facilitates=facilitates).correct
    return row.correct_option if shown else None


async def voters(
    uow: UnitOfWork,
    session_id: str,
    group_id: str,
    members: Sequence[SessionMember] | None = None,
) -> list[str]:
    """Session members still ACTIVE in the group, sorted: those who may vote and the gates wait
    for (the one definition: gates, progress, results and the report). `members`: the session's
    members when the caller has read them already."""
    active = set(await group_rows.active_member_ids(uow.db, group_id))
    if members is None:
        members = await session_rows.members(uow.db, session_id)
    return [m.user_id for m in members if m.user_id in active]


def results_json(
    row: Round, activity: Sequence[Activity], eligible: Collection[str], shown: Reveal
) -> views.Json:
    """The results object of API.md §5, with the parts this viewer may not see yet as null."""
    votes = ballots(activity, ActivityType.PI_VOTE_SUBMIT, eligible)
    revotes = ballots(activity, ActivityType.PI_REVOTE_SUBMIT, eligible)
    computed = rules.results(votes, revotes, row.options, row.correct_option)
    correct = computed.correct
    return {
        "round_index": row.round_index,
        "status": row.status,
        "options": row.options,
        "eligible": len(eligible),
        "vote": _tally(computed.vote) if shown.vote else None,
        "revote": _tally(computed.revote) if shown.revote else None,
        "switches": [
            {"from": s.from_choice, "to": s.to_choice, "count": s.count} for s in computed.switches
        ]
        if shown.revote
        else None,
        "correct_option": row.correct_option if shown.correct else None,
        "correct": {
            "vote_pct": correct.vote_pct,
            "revote_pct": correct.revote_pct,
            "normalized_change": correct.normalized_change,
        }
        if shown.correct and correct is not None
        else None,
    }


def _tally(tally: rules.Tally) -> views.Json:
    return {"counts": tally.counts, "total": tally.total}


def check_may_read_results(access: SessionAccess) -> None:
    """Members dealt into the session and the group's OWNER/MOD (who facilitate) read results."""
    if access.session_role is None and not access.facilitates:
        raise Forbidden("only the session's members and the group's OWNER/MOD may read results")


async def round_results(
    uow: UnitOfWork, actor: Identity, session_id: str, round_index: int
) -> views.Json:
    access = await load_session(uow, session_id, actor.user_id)
    check_may_read_results(access)
    if not 1 <= round_index <= access.session.rounds_count:
        raise NotFound("round not found")
    row = await session_rows.round_at(uow.db, session_id, round_index)
    if row is None:
        raise NotFound("round not found")
    activity = await session_rows.activity(uow.db, session_id, round_id=row.id)
    eligible = await voters(uow, session_id, access.session.group_id)
    shown = rules.reveal(RoundStatus(row.status), facilitates=access.facilitates)
    return results_json(row, activity, eligible, shown)
