"""Schemathesis against a live server: every operation of /openapi.json, with generated input,
authenticated as a member of a real group and session, answers no 5xx and only what the document
says (status codes and response schemas).

Generated ids would only ever reach 404, so the path's ids are real ones: a fresh group and RUNNING
session per operation, so one operation removing a member or finishing the session does not
starve the next.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.core.result import Err

from studygroups.app import build
from tests.conftest import auth, make_settings, serve

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]

# Bounded: the whole run stays well under a minute on a loaded machine.
EXAMPLES_PER_OPERATION = 20
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
]


@contextmanager
def live_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real server in its own thread and event loop: schemathesis calls it synchronously."""
    service = build(
        # Reads unthrottled: the read limit would answer most generated reads 429.
        make_settings(
            database_url, tmp_path, rest_reads_per_second=10_000.0, rest_read_burst=10_000
        )
    )
    started: list[str] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        try:
            async with serve(service) as server:
                started.append(server.url)
                ready.set()
                await stop.wait()
        finally:
            ready.set()
            await service.database.dispose()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    ready.wait(60)
    try:
        assert started, "the server did not start"
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json()


def a_group(client: httpx.Client) -> str:
    """ana's group, with bo as an ACTIVE member and one content on its playlist."""
    group_id: str = _ok(client.post("/groups", json={"name": "Fuzz"}, headers=auth("ana")))["id"]
    invite = {"user_id": "bo", "role": "MEMBER"}
    _ok(client.post(f"/groups/{group_id}/members/invite", json=invite, headers=auth("ana")))
    _ok(client.post(f"/groups/{group_id}/members/accept", headers=auth("bo")))
    content = {"content_id": "c1"}
    _ok(client.post(f"/groups/{group_id}/contents", json=content, headers=auth("ana")))
    return group_id


def a_running_session(client: httpx.Client, group_id: str) -> str:
    """A RUNNING session of 3 rounds whose first round has options and is VOTING."""
    created = client.post(
        "/group-sessions",
        params={"groupId": group_id},
        json={"rounds_count": 3},
        headers=auth("ana"),
    )
    session_id: str = _ok(created)["id"]
    _ok(client.put(f"/group-sessions/{session_id}/start", headers=auth("ana")))
    prompt = {"prompt_text": "Which?", "options": ["A", "B"], "correct_option": "A"}
    _ok(
        client.put(
            f"/group-sessions/{session_id}/rounds/1/prompt", json=prompt, headers=auth("ana")
        )
    )
    advance = {"to_status": "VOTING"}
    _ok(
        client.post(
            f"/group-sessions/{session_id}/rounds/1/advance", json=advance, headers=auth("ana")
        )
    )
    return session_id


def fuzz(operation: Operation, url: str, real: dict[str, str]) -> None:
    """Generated requests to one operation, on real ids, as ana: every answer checked."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests on every run: CI does not flake on a new find
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case) -> None:
        for name in case.path_parameters:
            if name in real:
                case.path_parameters[name] = real[name]
        if "groupId" in (case.query or {}):
            case.query["groupId"] = real["group_id"]
        response = case.call(base_url=url, headers=auth("ana"))
        case.validate_response(response, checks=CHECKS)

    call()


def test_every_operation_answers_what_the_openapi_document_says(
    sqlite_url: str, tmp_path: Path
) -> None:
    failures: list[str] = []
    with live_server(sqlite_url, tmp_path) as url, httpx.Client(base_url=url) as client:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations: list[Operation] = []
        for result in schema.get_all_operations():
            assert not isinstance(result, Err), result.err()
            operations.append(result.ok())
        for operation in operations:
            group_id = a_group(client)
            real = {
                "group_id": group_id,
                "session_id": a_running_session(client, group_id),
                "user_id": "bo",
                "content_id": "c1",
            }
            try:
                fuzz(operation, url, real)
            except Exception as failure:  # noqa: BLE001 -- one report for every operation
                failures.append(f"{operation.label}: {failure}")
        assert len(operations) >= 30
    assert not failures, "\n\n".join(failures)
