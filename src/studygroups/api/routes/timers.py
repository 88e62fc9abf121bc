"""The phase clock's commands: a round's timer and the session's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from studygroups.api.deps import WriterDep
from studygroups.api.schemas import ErrorAnswer
from studygroups.api.timer_schemas import (
    ChangeSettings,
    ChangeTimer,
    SessionSettingsAnswer,
    TimedRoundAnswer,
)
from studygroups.services import timers

router = APIRouter(prefix="/group-sessions", tags=["timers"])

RoundIndex = Annotated[int, Path(ge=1, le=10, description="1-based round index")]
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorAnswer} for code in (400, 401, 403, 404, 409)
}


@router.post(
    "/{session_id}/rounds/{round_index}/timer",
    response_model=TimedRoundAnswer,
    responses=ERRORS,
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


@router.patch("/{session_id}/settings", response_model=SessionSettingsAnswer, responses=ERRORS)
async def change_settings(session_id: str, body: ChangeSettings, run: WriterDep) -> JSONResponse:
    """Turn auto-advance on or off (facilitator)."""
    return await run(
        lambda uow: timers.change_settings(uow, run.identity, session_id, body.auto_advance)
    )
