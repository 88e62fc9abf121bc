"""Groups and membership: /groups…"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from studygroups.api.deps import ReaderDep, WriterDep
from studygroups.api.schemas import CreateGroup, InviteMember
from studygroups.services import groups

router = APIRouter(prefix="/groups", tags=["groups"])


@router.post("", status_code=201)
async def create_group(body: CreateGroup, run: WriterDep) -> JSONResponse:
    return await run(
        lambda uow: groups.create_group(
            uow, run.identity, body.name, body.scope_type, body.scope_id
        ),
        status_code=201,
    )


@router.get("")
async def list_groups(read: ReaderDep) -> Any:
    return await read(lambda uow: groups.list_groups(uow, read.identity))


@router.get("/{group_id}")
async def get_group(group_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: groups.get_group(uow, read.identity, group_id))


@router.post("/{group_id}/members/invite", status_code=201)
async def invite_member(group_id: str, body: InviteMember, run: WriterDep) -> JSONResponse:
    return await run(
        lambda uow: groups.invite_member(uow, run.identity, group_id, body.user_id, body.role),
        status_code=201,
    )


@router.post("/{group_id}/members/accept")
async def accept_invite(group_id: str, run: WriterDep) -> JSONResponse:
    return await run(lambda uow: groups.accept_invite(uow, run.identity, group_id))


@router.delete("/{group_id}/members/{user_id}")
async def remove_member(group_id: str, user_id: str, run: WriterDep) -> JSONResponse:
    return await run(lambda uow: groups.remove_member(uow, run.identity, group_id, user_id))


@router.get("/{group_id}/sessions")
async def list_group_sessions(group_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: groups.list_group_sessions(uow, read.identity, group_id))
