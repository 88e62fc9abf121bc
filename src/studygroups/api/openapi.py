"""The error answers every route documents, and an OpenAPI document that says 400, not 422.

Invalid input is answered 400 with the error body (api/errors.py), never FastAPI's 422, so the
document must not promise a 422 (schemathesis holds the server to what it documents).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from studygroups.api.schemas import ErrorAnswer, GateAnswer, InvalidAnswer

Responses = dict[int | str, dict[str, Any]]

# Every authenticated route can answer these (docs/api.md, "Errors").
AUTHENTICATED: Responses = {
    400: {"model": InvalidAnswer, "description": "Invalid input (or a bad Idempotency-Key)"},
    401: {"model": ErrorAnswer, "description": "No valid token"},
    403: {"model": ErrorAnswer, "description": "Not allowed"},
    404: {"model": ErrorAnswer, "description": "Unknown id"},
    429: {"model": ErrorAnswer, "description": "Too many requests; header Retry-After"},
    503: {"model": ErrorAnswer, "description": "The database is unavailable; nothing changed"},
}

# And every change these.
CHANGE: Responses = {
    408: {"model": ErrorAnswer, "description": "The body did not arrive in time"},
    409: {"model": ErrorAnswer, "description": "A state rule refuses the change"},
    413: {"model": ErrorAnswer, "description": "The body is too large"},
}

# An advance's 409 may be a gate that is not met.
ADVANCE: Responses = {
    **CHANGE,
    409: {"model": GateAnswer, "description": "Not the next status, or a gate is not met"},
}

FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install(api: FastAPI) -> None:
    """Build the document as FastAPI does, then drop the 422 answers nothing ever sends."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = build()
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            for name in FASTAPI_VALIDATION:
                schemas.pop(name, None)
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
