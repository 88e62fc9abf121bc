"""The session report: every round's results and every member's answers, for the facilitator
and the group's OWNER/MOD (what an instructor exports to a gradebook, also as CSV rows)."""

from __future__ import annotations

from collections import defaultdict

from studygroups.domain.activity import ActivityType
from studygroups.domain.errors import Forbidden
from studygroups.domain.results import Reveal
from studygroups.identity import Identity
from studygroups.services import views
from studygroups.services.access import load_session
from studygroups.services.results import ballots, results_json, voters
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import chat as chat_rows
from studygroups.storage import sessions as session_rows
from studygroups.storage import users
from studygroups.storage.tables import Activity

# The CSV's columns, in order: one row per session member per round.
CSV_COLUMNS = (
    "session_id",
    "round_index",
    "user_id",
    "user_name",
    "session_role",
    "vote",
    "revote",
    "vote_correct",
    "revote_correct",
    "chat_messages",
)

EVERYTHING = Reveal(vote=True, revote=True, correct=True)


def _is_correct(choice: str | None, correct_option: str | None) -> bool | None:
    """Whether a choice was the correct one; None without a correct option or a choice."""
    if correct_option is None or choice is None:
        return None
    return choice == correct_option


async def session_report(uow: UnitOfWork, actor: Identity, session_id: str) -> views.Json:
    access = await load_session(uow, session_id, actor.user_id)
    if not access.facilitates:
        raise Forbidden("only the session's FACILITATOR or a group OWNER/MOD may read the report")
    session = access.session
    members = await session_rows.members(uow.db, session_id)
    member_ids = [m.user_id for m in members]
    names = await users.names(uow.db, member_ids)
    rounds = await session_rows.rounds(uow.db, session_id)
    by_round: dict[str, list[Activity]] = defaultdict(list)
    for entry in await session_rows.activity(uow.db, session_id):
        by_round[entry.round_id].append(entry)
    cards = {c.round_id: c for c in await session_rows.shared_cards(uow.db, session_id)}
    chat = await chat_rows.counts(uow.db, session_id)
    eligible = await voters(uow, session_id, session.group_id)

    rounds_json = []
    answers: dict[str, list[views.Json]] = {user_id: [] for user_id in member_ids}
    for row in rounds:
        activity = by_round[row.id]
        card = cards.get(row.id)
        rounds_json.append(
            {
                "round_index": row.round_index,
                "prompt_text": row.prompt_text,
                "options": row.options,
                "correct_option": row.correct_option,
                "results": results_json(row, activity, eligible, EVERYTHING),
                "explanation": {
                    "explanation": card.explanation,
                    "group_choice": card.group_choice,
                    "key_terms": card.key_terms,
                }
                if card
                else None,
                "chat_messages": sum(
                    n for (index, _), n in chat.items() if index == row.round_index
                ),
            }
        )
        # Every session member's own answers, including members who left the group since.
        votes = ballots(activity, ActivityType.PI_VOTE_SUBMIT, member_ids)
        revotes = ballots(activity, ActivityType.PI_REVOTE_SUBMIT, member_ids)
        for user_id in member_ids:
            vote, revote = votes.get(user_id), revotes.get(user_id)
            answers[user_id].append(
                {
                    "round_index": row.round_index,
                    "vote": vote,
                    "revote": revote,
                    "vote_correct": _is_correct(vote, row.correct_option),
                    "revote_correct": _is_correct(revote, row.correct_option),
                    "chat_messages": chat.get((row.round_index, user_id), 0),
                }
            )
    return {
        "session": views.session_summary(session),
        "rounds": rounds_json,
        "members": [
            {
                "user_id": m.user_id,
                "user_name": names[m.user_id],
                "session_role": m.role,
                "chat_messages": sum(n for (_, user), n in chat.items() if user == m.user_id),
                "rounds": answers[m.user_id],
            }
            for m in members
        ],
    }


def csv_rows(report: views.Json) -> list[dict[str, object]]:
    """The report as the CSV's rows (CSV_COLUMNS): by round, then by member (sorted by id)."""
    session_id = report["session"]["id"]
    rows: list[dict[str, object]] = []
    for round_ in report["rounds"]:
        index = round_["round_index"]
        for member in report["members"]:
            answer = next(a for a in member["rounds"] if a["round_index"] == index)
            rows.append(
                {
                    "session_id": session_id,
                    "round_index": index,
                    "user_id": member["user_id"],
                    "user_name": member["user_name"],
                    "session_role": member["session_role"],
                    "vote": answer["vote"],
                    "revote": answer["revote"],
                    "vote_correct": answer["vote_correct"],
                    "revote_correct": answer["revote_correct"],
                    "chat_messages": answer["chat_messages"],
                }
            )
    return rows
