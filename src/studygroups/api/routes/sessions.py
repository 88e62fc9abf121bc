"""Sessions, rounds, activity, shared cards and the event feed: /group-sessions…"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from studygroups.api.deps import ReaderDep, State, WriterDep
from studygroups.api.openapi import ADVANCE, AUTHENTICATED, CHANGE
from studygroups.api.schemas import Advance, CreateSession, SetStatus, SubmitActivity, UpdatePrompt
from studygroups.domain.events import SEQ_STORED_MAX
from studygroups.domain.results import UNCHANGED
from studygroups.services import activity, answers, presence, sessions

router = APIRouter(prefix="/group-sessions", tags=["sessions"], responses=AUTHENTICATED)

RoundIndex = Annotated[int, Path(ge=1, le=10, description="1-based round index")]


@router.post("", status_code=201, response_model=answers.SessionDetail, responses=CHANGE)
async def create_session(
    body: CreateSession, run: WriterDep, group_id: Annotated[str, Query(alias="groupId")]
) -> JSONResponse:
    return await run(
        lambda uow: sessions.create_session(
            uow,
            run.identity,
            group_id,
            body.rounds_count,
            body.mode,
            body.layer,
            body.content_id,
            body.auto_advance,
        ),
        status_code=201,
    )


@router.get("/{session_id}", response_model=answers.SessionDetail)
async def get_session(session_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: sessions.get_session(uow, read.identity, session_id))


@router.put("/{session_id}/start", response_model=answers.SessionDetail, responses=CHANGE)
async def start_session(session_id: str, run: WriterDep) -> JSONResponse:
    return await run(lambda uow: sessions.start_session(uow, run.identity, session_id))


@router.put("/{session_id}/status", response_model=answers.SessionDetail, responses=CHANGE)
async def set_session_status(session_id: str, body: SetStatus, run: WriterDep) -> JSONResponse:
    return await run(
        lambda uow: sessions.set_session_status(uow, run.identity, session_id, body.status)
    )


@router.patch(
    "/{session_id}/rounds/{round_index}/prompt",
    operation_id="update_prompt",
    response_model=answers.PromptAnswer,
    responses=CHANGE,
)
@router.put(
    "/{session_id}/rounds/{round_index}/prompt",
    operation_id="replace_prompt",
    response_model=answers.PromptAnswer,
    responses=CHANGE,
)
async def update_prompt(
    session_id: str, round_index: RoundIndex, body: UpdatePrompt, run: WriterDep
) -> JSONResponse:
    return await run(
        lambda uow: sessions.update_prompt(
            uow,
            run.identity,
            session_id,
            round_index,
            body.prompt_text,
            body.options,
            body.linked_highlight_ids,
            body.correct_option if "correct_option" in body.model_fields_set else UNCHANGED,
            body.timers.model_dump(exclude_none=True) if body.timers else None,
        )
    )


@router.post(
    "/{session_id}/rounds/{round_index}/advance",
    response_model=answers.AdvanceAnswer,
    responses=ADVANCE,
)
async def advance_round(
    session_id: str, round_index: RoundIndex, body: Advance, run: WriterDep
) -> JSONResponse:
    return await run(
        lambda uow: sessions.advance_round(
            uow, run.identity, session_id, round_index, body.to_status, body.force
        )
    )


@router.post(
    "/{session_id}/events",
    status_code=201,
    response_model=answers.SubmitAnswer,
    responses=CHANGE,
)
async def submit_activity(session_id: str, body: SubmitActivity, run: WriterDep) -> JSONResponse:
    return await run(
        lambda uow: activity.submit_activity(
            uow, run.identity, session_id, body.round_index, body.event_type, body.payload
        ),
        status_code=201,
    )


@router.get("/{session_id}/events", response_model=list[answers.ActivityEntry])
async def list_activity(
    session_id: str,
    read: ReaderDep,
    round_index: Annotated[int | None, Query(ge=1, le=10)] = None,
) -> Any:
    return await read(
        lambda uow: activity.list_activity(uow, read.identity, session_id, round_index)
    )


@router.get("/{session_id}/shared-cards", response_model=list[answers.SharedCard])
async def list_shared_cards(session_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: activity.list_shared_cards(uow, read.identity, session_id))


@router.get("/{session_id}/presence", response_model=answers.PresenceAnswer)
async def list_presence(session_id: str, state: State, read: ReaderDep) -> Any:
    return await read(
        lambda uow: presence.list_presence(uow, read.identity, session_id, state.presence)
    )


@router.get("/{session_id}/feed", response_model=answers.Feed)
async def read_feed(
    session_id: str,
    read: ReaderDep,
    after_seq: Annotated[int, Query(ge=0, le=SEQ_STORED_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=sessions.FEED_MAX_LIMIT)] = sessions.FEED_DEFAULT_LIMIT,
) -> Any:
    return await read(
        lambda uow: sessions.read_feed(uow, read.identity, session_id, after_seq, limit)
    )
