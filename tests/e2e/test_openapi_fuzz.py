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
from studygroups.ratelimit import Limit, RateLimiter
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
    # Writes too: hundreds of generated writes by one user would otherwise meet the write limit
    # (a documented 429) before the walk through a whole session, which expects no 429.
    service.api.state.api.write_limiter = RateLimiter(Limit(rate=10_000.0, burst=10_000.0))
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
    database_url: str, tmp_path: Path
) -> None:
    """On both databases: PostgreSQL refuses text SQLite stores (NUL characters)."""
    failures: list[str] = []
    with live_server(database_url, tmp_path) as url, httpx.Client(base_url=url) as client:
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


class Documented:
    """Calls an operation with chosen input and checks its answer against the document."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = schemathesis.openapi.from_url(f"{url}/openapi.json")

    def __call__(
        self,
        label: str,
        path: dict[str, str],
        *,
        user: str | None = "ana",
        expect: int = 200,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        method, template = label.split(" ", 1)
        operation = self.schema[template][method]
        given: dict[str, Any] = {"path_parameters": path, "query": query}
        if body is not None:
            given["body"] = body
        case = operation.Case(**given)
        sent = {**(auth(user) if user else {}), **(headers or {})}
        response = case.call(base_url=self.url, headers=sent)
        assert response.status_code == expect, f"{label}: {response.status_code} {response.text}"
        case.validate_response(response, checks=CHECKS)
        return response.json() if "json" in str(response.headers.get("content-type")) else None


def test_every_kind_of_answer_of_a_whole_session_is_the_documented_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Generated input rarely passes the gates; this walks a round through every phase, so each
    change's success answer (and a replay, a gate's 409, a 400 with details) is checked too."""
    with live_server(sqlite_url, tmp_path) as url, httpx.Client(base_url=url) as client:
        call = Documented(url)
        group = {"group_id": a_group(client)}
        session = {"session_id": a_running_session(client, group["group_id"])}
        in_group = {**group, **session}
        round_1 = {**session, "round_index": "1"}
        events = "POST /group-sessions/{session_id}/events"
        advance = "POST /group-sessions/{session_id}/rounds/{round_index}/advance"

        def submit(user: str, event_type: str, payload: dict[str, Any]) -> Any:
            body = {"round_index": 1, "event_type": event_type, "payload": payload}
            return call(events, session, user=user, expect=201, body=body)

        # ana is the FACILITATOR, bo the SCRIBE (roles dealt by sorted user id).
        gate = call(advance, round_1, expect=409, body={"to_status": "DISCUSSING"})
        assert gate["missing"] == ["ana", "bo"]
        submit("bo", "PI_VOTE_SUBMIT", {"choice": "A"})
        vote = {"round_index": 1, "event_type": "PI_VOTE_SUBMIT", "payload": {"choice": "B"}}
        retry = {"Idempotency-Key": "vote-1"}
        first = call(events, session, expect=201, body=vote, headers=retry)
        assert call(events, session, expect=201, body=vote, headers=retry) == first
        call("GET /group-sessions/{session_id}/events", session, user="bo")
        call(advance, round_1, body={"to_status": "DISCUSSING"})
        call(advance, round_1, body={"to_status": "REVOTING"})
        submit("bo", "PI_REVOTE_SUBMIT", {"choice": "A"})
        call(advance, round_1, body={"to_status": "EXPLAINING", "force": True})
        card = submit("bo", "GROUP_EXPLANATION_SUBMIT", {"explanation": "A.", "key_terms": ["k"]})
        assert card["shared_card"]["key_terms"] == ["k"]
        call(advance, round_1, body={"to_status": "DONE"})
        chat = "/groups/{group_id}/sessions/{session_id}/chat"
        call(f"POST {chat}", in_group, expect=201, body={"round_index": 1, "message": "<b>A</b>"})
        for read in (
            "GET /group-sessions/{session_id}",
            "GET /group-sessions/{session_id}/shared-cards",
            "GET /group-sessions/{session_id}/feed",
            "GET /group-sessions/{session_id}/presence",
            "GET /group-sessions/{session_id}/report",
            "GET /group-sessions/{session_id}/report.csv",
            f"GET {chat}",
        ):
            call(read, in_group if "{group_id}" in read else session)
        call("GET /group-sessions/{session_id}/rounds/{round_index}/results", round_1, user="bo")
        call("GET /groups/{group_id}/sessions", group)
        invalid = call(events, session, expect=400, body={"round_index": "1", "event_type": "X"})
        assert invalid["details"]
        call(events, session, user=None, expect=401, body=vote)
        status = "PUT /group-sessions/{session_id}/status"
        call(status, session, body={"status": "POST"})
        call(status, session, body={"status": "FINISHED"})
        call(f"POST {chat}", in_group, expect=409, body={"round_index": 1, "message": "late"})
