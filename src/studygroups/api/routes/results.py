"""Round results and the session report (JSON and CSV): /group-sessions/…/results, …/report."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from studygroups.api.deps import ReaderDep
from studygroups.api.openapi import AUTHENTICATED
from studygroups.api.result_schemas import Report, RoundResults
from studygroups.services import report, results

router = APIRouter(prefix="/group-sessions", tags=["results"], responses=AUTHENTICATED)

# Beyond the session's rounds is "unknown round" (404), so only the type's range is checked here.
AnyRoundIndex = Annotated[int, Path(ge=1, le=2**31 - 1, description="1-based round index")]

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@router.get("/{session_id}/rounds/{round_index}/results", response_model=RoundResults)
async def round_results(session_id: str, round_index: AnyRoundIndex, read: ReaderDep) -> Any:
    return await read(
        lambda uow: results.round_results(uow, read.identity, session_id, round_index)
    )


@router.get("/{session_id}/report", response_model=Report)
async def session_report(session_id: str, read: ReaderDep) -> Any:
    return await read(lambda uow: report.session_report(uow, read.identity, session_id))


@router.get(
    "/{session_id}/report.csv",
    response_class=Response,
    responses={
        200: {
            "description": "One row per session member per round, with a header row",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def session_report_csv(session_id: str, read: ReaderDep) -> Response:
    found = await read(lambda uow: report.session_report(uow, read.identity, session_id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.CSV_COLUMNS)
    for row in report.csv_rows(found):
        writer.writerow([_cell(row[column]) for column in report.CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.csv"'},
    )


def _cell(value: object) -> str:
    """null → empty, booleans → true/false; text a spreadsheet would run gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
