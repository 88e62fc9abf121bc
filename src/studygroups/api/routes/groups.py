"""Groups, membership and the group's playlist: /groups…"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from studygroups.api.deps import ReaderDep, State, WriterDep
from studygroups.api.openapi import AUTHENTICATED, CHANGE
from studygroups.api.schemas import (
    AddContent,
    ChangeRole,
    ContentAnswer,
    CreateGroup,
    ErrorAnswer,
    GroupDetailAnswer,
    InviteMember,
    MembershipAnswer,
    MyGroupAnswer,
    UpdateGroup,
)
from studygroups.services import answers as session_answers
from studygroups.services import groups

router = APIRouter(prefix="/groups", tags=["groups"], responses=AUTHENTICATED)

ERRORS = {
    400: "invalid input",
    401: "no valid token",
    403: "not allowed",
    404: "unknown group (or member, or content)",
    409: "a rule refuses the change",
}


def answers(
    ok: int, model: Any, *errors: int, change: bool = True
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: the success answer's schema and the error answers this route can give (with
    the router's AUTHENTICATED ones, and CHANGE's for a change)."""
    documented: dict[int | str, dict[str, Any]] = dict(CHANGE) if change else {}
    documented.update(
        {code: {"model": ErrorAnswer, "description": ERRORS[code]} for code in (401, *errors)}
    )
    if model is not None:
        documented[ok] = {"model": model}
    return documented


@router.post("", status_code=201, responses=answers(201, GroupDetailAnswer, 400))
async def create_group(body: CreateGroup, run: WriterDep) -> JSONResponse:
    return await run(
        lambda uow: groups.create_group(
            uow, run.identity, body.name, body.scope_type, body.scope_id
        ),
        status_code=201,
    )


@router.get("", responses=answers(200, list[MyGroupAnswer], change=False))
async def list_groups(read: ReaderDep) -> Any:
    return await read(lambda uow: groups.list_groups(uow, read.identity))


@router.get("/{group_id}", responses=answers(200, GroupDetailAnswer, 403, 404, change=False))
async def get_group(group_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: groups.get_group(uow, read.identity, group_id))


@router.patch("/{group_id}", responses=answers(200, GroupDetailAnswer, 400, 403, 404))
async def update_group(group_id: str, body: UpdateGroup, run: WriterDep) -> JSONResponse:
    # Only the fields sent change, so "absent" and "null" differ: model_fields_set tells them apart.
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return await run(lambda uow: groups.update_group(uow, run.identity, group_id, changes))


@router.post(
    "/{group_id}/members/invite",
    status_code=201,
    responses=answers(201, MembershipAnswer, 400, 403, 404, 409),
)
async def invite_member(group_id: str, body: InviteMember, run: WriterDep) -> JSONResponse:
    return await run(
        lambda uow: groups.invite_member(uow, run.identity, group_id, body.user_id, body.role),
        status_code=201,
    )


@router.post("/{group_id}/members/accept", responses=answers(200, MembershipAnswer, 403, 404, 409))
async def accept_invite(group_id: str, run: WriterDep) -> JSONResponse:
    return await run(lambda uow: groups.accept_invite(uow, run.identity, group_id))


@router.patch(
    "/{group_id}/members/{user_id}",
    responses=answers(200, MembershipAnswer, 400, 403, 404, 409),
)
async def change_role(
    group_id: str, user_id: str, body: ChangeRole, run: WriterDep
) -> JSONResponse:
    return await run(
        lambda uow: groups.change_role(uow, run.identity, group_id, user_id, body.role)
    )


@router.delete(
    "/{group_id}/members/{user_id}", responses=answers(200, MembershipAnswer, 403, 404, 409)
)
async def remove_member(group_id: str, user_id: str, run: WriterDep) -> JSONResponse:
    return await run(lambda uow: groups.remove_member(uow, run.identity, group_id, user_id))


@router.get(
    "/{group_id}/sessions",
    responses=answers(200, list[session_answers.SessionSummary], 403, 404, change=False),
)
async def list_group_sessions(group_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: groups.list_group_sessions(uow, read.identity, group_id))


@router.post(
    "/{group_id}/contents",
    status_code=201,
    responses=answers(201, ContentAnswer, 400, 403, 404, 409),
)
async def add_content(
    group_id: str, body: AddContent, run: WriterDep, state: State
) -> JSONResponse:
    return await run(
        lambda uow: groups.add_content(
            uow, run.identity, group_id, body.content_id, state.playlist
        ),
        status_code=201,
    )


# `:path`: a content id may hold a "/" (sent as %2F), and can still be taken off the playlist.
@router.delete(
    "/{group_id}/contents/{content_id:path}",
    status_code=204,
    response_class=Response,
    responses=answers(204, None, 403, 404),
)
async def remove_content(group_id: str, content_id: str, run: WriterDep) -> Response:
    await run(lambda uow: groups.remove_content(uow, run.identity, group_id, content_id))
    return Response(status_code=204)
