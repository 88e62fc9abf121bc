"""Activity use cases: votes, revotes and the scribe's explanation; reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from studygroups.domain import activity as rules
from studygroups.domain import sessions as session_rules
from studygroups.domain.activity import ActivityType
from studygroups.domain.errors import Invalid
from studygroups.domain.events import RevoteSubmitted, SharedCardCreated, VoteSubmitted
from studygroups.domain.permissions import check_session_member
from studygroups.domain.rounds import RoundStatus
from studygroups.identity import Identity
from studygroups.services import answers, views
from studygroups.services.access import load_session
from studygroups.services.sessions import load_round
from studygroups.services.unit_of_work import UnitOfWork
from studygroups.storage import sessions as session_rows
from studygroups.storage.tables import Activity, SharedCard


async def submit_activity(
    uow: UnitOfWork,
    actor: Identity,
    session_id: str,
    round_index: int,
    event_type: str,
    payload: Mapping[str, object],
) -> answers.SubmitAnswer:
    """Accept a vote, revote or explanation in its phase; a repeat replaces the earlier one."""
    kind = rules.parse_activity_type(event_type)
    access = await load_session(uow, session_id, actor.user_id, lock=True)
    check_session_member(access.group_status, access.session_role)
    session_rules.check_running(access.status)
    row = await load_round(uow, access.session, round_index)
    rules.check_phase(kind, RoundStatus(row.status))
    options = row.options or None
    if kind is ActivityType.GROUP_EXPLANATION_SUBMIT:
        explanation = rules.parse_explanation(payload, options, access.session_role)
        stored: dict[str, object] = {
            "explanation": explanation.explanation,
            "group_choice": explanation.group_choice,
            "key_terms": explanation.key_terms,
        }
    else:
        stored = {"choice": rules.parse_choice(payload, options)}
    now = uow.now()
    entry = await session_rows.activity_of(uow.db, row.id, actor.user_id, kind)
    if entry is None:
        entry = Activity(
            id=str(uuid.uuid4()),
            session_id=session_id,
            round_id=row.id,
            user_id=actor.user_id,
            event_type=kind,
            payload=stored,
            created_at=now,
            updated_at=now,
        )
        uow.db.add(entry)
    else:
        entry.payload, entry.updated_at = stored, now
    card_json: answers.SharedCard | None = None
    if kind is ActivityType.GROUP_EXPLANATION_SUBMIT:
        card = await _save_card(uow, actor, session_id, row.id, stored)
        [event] = await uow.record(
            session_id,
            SharedCardCreated(
                session_id, round_id=row.id, round_index=round_index, card_id=card.id
            ),
        )
        card_json = views.shared_card(card, round_index)
    elif kind is ActivityType.PI_VOTE_SUBMIT:
        [event] = await uow.record(
            session_id,
            VoteSubmitted(
                session_id, round_id=row.id, round_index=round_index, user_id=actor.user_id
            ),
        )
    else:
        [event] = await uow.record(
            session_id,
            RevoteSubmitted(
                session_id, round_id=row.id, round_index=round_index, user_id=actor.user_id
            ),
        )
    await uow.db.flush()
    activity_json = views.activity(entry, round_index, hide_choice=False)
    # seq: the client matches its write to the event it will hear
    if card_json is None:
        return {"activity": activity_json, "seq": event.seq}
    return {"activity": activity_json, "shared_card": card_json, "seq": event.seq}


async def _save_card(
    uow: UnitOfWork, actor: Identity, session_id: str, round_id: str, stored: dict[str, object]
) -> SharedCard:
    now = uow.now()
    card = await session_rows.shared_card(uow.db, round_id)
    explanation = str(stored["explanation"])
    group_choice = stored["group_choice"]
    key_terms = stored["key_terms"]
    assert isinstance(key_terms, list) and (group_choice is None or isinstance(group_choice, str))
    if card is None:
        card = SharedCard(
            id=str(uuid.uuid4()),
            session_id=session_id,
            round_id=round_id,
            created_by=actor.user_id,
            explanation=explanation,
            group_choice=group_choice,
            key_terms=key_terms,
            created_at=now,
            updated_at=now,
        )
        uow.db.add(card)
    else:
        card.explanation, card.group_choice, card.key_terms = explanation, group_choice, key_terms
        card.updated_at, card.created_by = now, actor.user_id
    return card


async def list_activity(
    uow: UnitOfWork, actor: Identity, session_id: str, round_index: int | None
) -> list[answers.ActivityEntry]:
    """Everyone's submissions; others' choices hidden while their voting phase is open."""
    access = await load_session(uow, session_id, actor.user_id)
    rounds = await session_rows.rounds(uow.db, session_id)
    by_id = {r.id: r for r in rounds}
    round_id = None
    if round_index is not None:
        if not 1 <= round_index <= access.session.rounds_count:
            raise Invalid(f"round_index must be 1..{access.session.rounds_count}")
        round_id = next(r.id for r in rounds if r.round_index == round_index)
    result = []
    for entry in await session_rows.activity(uow.db, session_id, round_id=round_id):
        row = by_id[entry.round_id]
        hidden = rules.is_choice_hidden(
            ActivityType(entry.event_type),
            RoundStatus(row.status),
            own=entry.user_id == actor.user_id,
            viewer_facilitates=access.facilitates,
        )
        result.append(views.activity(entry, row.round_index, hide_choice=hidden))
    return result


async def list_shared_cards(
    uow: UnitOfWork, actor: Identity, session_id: str
) -> list[answers.SharedCard]:
    await load_session(uow, session_id, actor.user_id)
    index_of = {r.id: r.round_index for r in await session_rows.rounds(uow.db, session_id)}
    return [
        views.shared_card(c, index_of[c.round_id])
        for c in await session_rows.shared_cards(uow.db, session_id)
    ]
