"""The phase clock's commands: a round's timer and the session's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from studygroups.api.deps import WriterDep
from studygroups.api.openapi import AUTHENTICATED, CHANGE
from studygroups.api.timer_schemas import (
    ChangeSettings,
    ChangeTimer,
    SessionSettingsAnswer,
    TimedRoundAnswer,
)
from studygroups.services import timers

router = APIRouter(prefix="/group-sessions", tags=["timers"], responses=AUTHENTICATED)

RoundIndex = Annotated[int, Path(ge=1, le=10, description="1-based round index")]


@router.post(
    "/{session_id}/rounds/{round_index}/timer",
    response_model=TimedRoundAnswer,
    responses=CHANGE,
)
async def change_timer(
    session_id: str, round_index: RoundIndex, body: ChangeTimer, run: WriterDep
) -> JSONResponse:
    """pause / resume / extend / set the round's timer (facilitator or TIMEKEEPER)."""
    return await run(
        lambda uow: timers.change_timer(
            uow, run.identity, session_id, round_index, body.action, body.seconds
        )
    )


@router.patch("/{session_id}/settings", response_model=SessionSettingsAnswer, responses=CHANGE)
async def change_settings(session_id: str, body: ChangeSettings, run: WriterDep) -> JSONResponse:
    """Turn auto-advance on or off (facilitator)."""
    return await run(
        lambda uow: timers.change_settings(uow, run.identity, session_id, body.auto_advance)
    )
