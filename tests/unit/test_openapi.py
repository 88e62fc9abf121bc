"""/openapi.json documents what every route answers: the success answer's schema (the changes'
`seq` included) and the error answers, 400 for invalid input (never FastAPI's 422)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studygroups.app import build
from tests.conftest import make_settings

CHANGES = {"post", "put", "patch", "delete"}


@pytest.fixture
async def document(tmp_path: Path) -> dict[str, Any]:
    service = build(make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path))
    try:
        return service.api.openapi()
    finally:
        await service.database.dispose()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def schema_of(answer: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = answer.get("content", {})
    media = content.get("application/json") or content.get("text/plain") or content.get("text/csv")
    return media["schema"] if media else {}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
        return found
    return schema


def test_every_operation_documents_the_schema_of_its_success_answer(
    document: dict[str, Any],
) -> None:
    undocumented = []
    for method, path, operation in operations(document):
        ok = next(code for code in operation["responses"] if code.startswith("2"))
        if ok != "204" and not schema_of(operation["responses"][ok]):
            undocumented.append(f"{method.upper()} {path}")

    assert undocumented == []


def test_no_operation_promises_422_and_every_one_with_input_documents_400_with_the_error_body(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for method, path, operation in operations(document):
        assert "422" not in operation["responses"], f"{method.upper()} {path}"
        if operation.get("parameters") or operation.get("requestBody"):
            invalid = resolve(document, schema_of(operation["responses"]["400"]))
            assert {"statusCode", "error", "message"} <= set(invalid["properties"])
    assert "HTTPValidationError" not in schemas
    assert "details" in schemas["InvalidAnswer"]["properties"]


def test_every_change_that_records_an_event_documents_seq_in_its_answer(
    document: dict[str, Any],
) -> None:
    recording = [
        ("put", "/group-sessions/{session_id}/start"),
        ("put", "/group-sessions/{session_id}/status"),
        ("patch", "/group-sessions/{session_id}/rounds/{round_index}/prompt"),
        ("put", "/group-sessions/{session_id}/rounds/{round_index}/prompt"),
        ("post", "/group-sessions/{session_id}/rounds/{round_index}/advance"),
        ("post", "/group-sessions/{session_id}/events"),
        ("post", "/groups/{group_id}/sessions/{session_id}/chat"),
    ]
    for method, path in recording:
        responses = document["paths"][path][method]["responses"]
        ok = resolve(document, schema_of(responses.get("200") or responses["201"]))
        assert "seq" in ok["required"], f"{method.upper()} {path}"
        assert ok["properties"]["seq"]["type"] == "integer"


def test_a_gate_that_is_not_met_is_documented_with_its_counts_and_missing_members(
    document: dict[str, Any],
) -> None:
    advance = document["paths"]["/group-sessions/{session_id}/rounds/{round_index}/advance"]
    gate = resolve(document, schema_of(advance["post"]["responses"]["409"]))

    assert {"statusCode", "required", "current", "missing"} <= set(gate["properties"])
    for method, path, operation in operations(document):
        if method in CHANGES:
            assert {"401", "409", "413", "429"} <= set(operation["responses"]), path
