"""Session chat: /groups/:groupId/sessions/:sessionId/chat"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from studygroups.api.deps import ReaderDep, WriterDep
from studygroups.api.openapi import AUTHENTICATED, CHANGE
from studygroups.api.responses import PlainJson
from studygroups.api.schemas import PostChat
from studygroups.services import answers, chat

router = APIRouter(
    prefix="/groups/{group_id}/sessions/{session_id}/chat", tags=["chat"], responses=AUTHENTICATED
)


@router.post("", status_code=201, response_model=answers.ChatMessage, responses=CHANGE)
async def post_message(
    group_id: str, session_id: str, body: PostChat, run: WriterDep
) -> JSONResponse:
    if run.retry is None:  # with an Idempotency-Key the answer is stored in the transaction
        posted = await chat.post_message_at_once(
            run.units, run.identity, group_id, session_id, body.round_index, body.message
        )
        if posted is not None:
            return PlainJson(posted, status_code=201)
    return await run(
        lambda uow: chat.post_message(
            uow, run.identity, group_id, session_id, body.round_index, body.message
        ),
        status_code=201,
    )


@router.get("", response_model=answers.ChatLog)
async def list_messages(
    group_id: str,
    session_id: str,
    read: ReaderDep,
    round_index: Annotated[int | None, Query(ge=1, le=10)] = None,
) -> Any:
    return await read(
        lambda uow: chat.list_messages(uow, read.identity, group_id, session_id, round_index)
    )
