"""The one mapping from domain errors (and request-level failures) to HTTP status and JSON body."""

from __future__ import annotations

import logging
from typing import Any

from asyncpg.exceptions import UndefinedTableError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from studygroups.api.bodies import error_body
from studygroups.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    GateNotMet,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    closest,
)
from studygroups.storage.database import is_connection_error, is_missing_table

log = logging.getLogger("studygroups.api")

STATUS: dict[type[DomainError], int] = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
}


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": "1"}  # buckets refill within a second
    return JSONResponse(error_body(status, message, **extra), status_code=status, headers=headers)


def status_of(error: DomainError) -> int:
    return closest(error, STATUS, 400)


def not_migrated(error: BaseException) -> JSONResponse:
    """A `--no-migrate` process that started before `studygroups migrate` (/readyz says so)."""
    log.warning("database not migrated: %s", getattr(error, "orig", error))
    return error_response(
        503, "the database is not migrated (run studygroups migrate); nothing was changed"
    )


def install(app: FastAPI) -> None:
    """Register the handlers; every error the API returns passes through here."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(error, GateNotMet):
            extra = {"required": error.required, "current": error.current, "missing": error.missing}
        return error_response(status_of(error), error.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return error_response(400, "the request body is not valid JSON")
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "problem": e.get("msg", "invalid"),
            }
            for e in error.errors()
        ]
        summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details[:5])
        return error_response(400, f"invalid request: {summary}", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail))

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, error: DBAPIError) -> JSONResponse:
        if is_missing_table(error):
            return not_migrated(error)
        if isinstance(error, OperationalError) or is_connection_error(error):
            log.warning("database unavailable: %s", error.__class__.__name__)
            return error_response(503, "the database is unavailable; nothing was changed, retry")
        raise error

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(_: Request, error: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for DB_POOL_TIMEOUT: nothing was run, so the
        # answer is the outage's 503, not a 500 with a traceback.
        log.warning("database unavailable: no pooled connection free within the pool timeout")
        return error_response(503, "the database is unavailable; nothing was changed, retry")

    @app.exception_handler(UndefinedTableError)
    async def missing_table(_: Request, error: UndefinedTableError) -> JSONResponse:
        return not_migrated(error)  # asyncpg's own, on the paths below SQLAlchemy

    @app.exception_handler(Exception)
    async def server_fault(_: Request, error: Exception) -> JSONResponse:
        # A fault of the server: the contract's JSON body, not Starlette's plain text; the
        # exception goes on to the server's log with its traceback.
        return error_response(500, "Internal Server Error")

    @app.exception_handler(OSError)
    async def connection_error(_: Request, error: OSError) -> JSONResponse:
        log.warning("database unavailable: %s", str(error) or error.__class__.__name__)
        return error_response(503, "the database is unavailable; nothing was changed, retry")
