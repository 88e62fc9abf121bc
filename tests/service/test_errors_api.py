"""Refused requests over REST: the status, the JSON error body, and that nothing changed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

import httpx
import jwt
import pytest

from studygroups.app import Service
from studygroups.services import groups
from tests.conftest import SECRET, auth, token
from tests.service.observe import snapshot
from tests.support import Scenario, make_session

LIMIT = 64 * 1024


def _assert_error_body(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == status
    assert body["error"] == HTTPStatus(status).phrase
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def _signed(claims: dict[str, Any], secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "ana", "email": "ana@example.org", "name": "Ana"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "no header": {},
    "empty bearer": {"Authorization": "Bearer "},
    "not a jwt": {"Authorization": "Bearer not-a-token"},
    "wrong secret": _signed(_claims(), secret="another-secret-that-is-long-enough"),
    "expired": {"Authorization": f"Bearer {token('ana', ttl=-60)}"},
    "no sub": _signed(_claims(sub=None)),
    "no email": _signed(_claims(email=None)),
    "no name": _signed(_claims(name=None)),
    "blank name": _signed(_claims(name="  ")),
    "basic scheme": {"Authorization": "Basic YW5hOnNlY3JldA=="},
    "unpaired surrogate in the name": _signed(_claims(name="Eve\ud800")),
    "spaces around the sub": _signed(_claims(sub=" ana")),
}


async def test_a_request_without_a_valid_token_is_unauthorized_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)

    for credentials, headers in BAD_CREDENTIALS.items():
        responses = [
            await http.get("/groups", headers=headers),
            await http.get(f"/group-sessions/{scenario.session_id}", headers=headers),
            await http.get(f"/group-sessions/{scenario.session_id}/feed", headers=headers),
            await http.post("/groups", json={"name": "G"}, headers=headers),
            await http.post(
                f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat",
                json={"round_index": 1, "message": "hi"},
                headers=headers,
            ),
        ]
        for response in responses:
            body = _assert_error_body(response, 401)
            assert "token" in body["message"].lower(), credentials
            assert response.headers["www-authenticate"] == "Bearer"

    assert await snapshot(scenario) == before
    groups = (await http.get("/groups", headers=auth("ana"))).json()
    assert [g["id"] for g in groups] == [scenario.group_id]


async def test_a_token_that_expires_later_is_accepted(http: httpx.AsyncClient) -> None:
    claims = _claims(exp=int(time.time()) + 60)

    response = await http.get("/groups", headers=_signed(claims))

    assert response.status_code == 200


async def test_claims_longer_than_the_user_record_holds_are_unauthorized(
    http: httpx.AsyncClient,
) -> None:
    longest = _claims(sub="u" * 255, email="e" * 245 + "@example.o", name="n" * 255)

    fits = await http.get("/groups", headers=_signed(longest))

    assert fits.status_code == 200
    for claim in ["sub", "email", "name"]:
        response = await http.get("/groups", headers=_signed({**longest, claim: "x" * 256}))
        _assert_error_body(response, 401)


async def test_unknown_ids_are_not_found(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    unknown = "/group-sessions/no-such-session"
    requests: list[tuple[str, str, Any]] = [
        ("GET", "/groups/no-such-group", None),
        ("GET", "/groups/no-such-group/sessions", None),
        ("POST", "/groups/no-such-group/members/invite", {"user_id": "bo", "role": "MEMBER"}),
        ("POST", "/groups/no-such-group/members/accept", None),
        ("DELETE", "/groups/no-such-group/members/bo", None),
        ("POST", "/group-sessions?groupId=no-such-group", {"rounds_count": 1}),
        ("GET", unknown, None),
        ("PUT", f"{unknown}/start", None),
        ("PUT", f"{unknown}/status", {"status": "FINISHED"}),
        ("PATCH", f"{unknown}/rounds/1/prompt", {"prompt_text": "Q?"}),
        ("POST", f"{unknown}/rounds/1/advance", {"to_status": "VOTING"}),
        ("POST", f"{unknown}/events", {"round_index": 1, "event_type": "PI_VOTE_SUBMIT"}),
        ("GET", f"{unknown}/events", None),
        ("GET", f"{unknown}/shared-cards", None),
        ("GET", f"{unknown}/feed", None),
        ("GET", f"/groups/{scenario.group_id}/sessions/no-such-session/chat", None),
        ("GET", "/no-such-route", None),
    ]

    for method, path, body in requests:
        response = await scenario.call(method, path, "ana", body)
        _assert_error_body(response, 404)


async def test_forbidden_and_conflicting_requests_answer_with_the_error_body(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    forbidden = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "zed")
    conflict = await scenario.call("PUT", f"/group-sessions/{scenario.session_id}/start", "ana")
    not_allowed = await scenario.call("DELETE", f"/group-sessions/{scenario.session_id}", "ana")

    _assert_error_body(forbidden, 403)
    _assert_error_body(conflict, 409)
    _assert_error_body(not_allowed, 405)


def _chat_path(scenario: Scenario) -> str:
    return f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat"


async def test_a_body_over_64_kib_is_too_large_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)

    chat = await scenario.call(
        "POST", _chat_path(scenario), "bo", {"round_index": 1, "message": "x" * LIMIT}
    )
    prompt = await scenario.call(
        "PATCH",
        f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
        "ana",
        {"prompt_text": "Q?", "options": ["o" * 400] * 200},
    )

    _assert_error_body(chat, 413)
    _assert_error_body(prompt, 413)
    assert await snapshot(scenario) == before


async def test_a_streamed_body_over_64_kib_is_too_large_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"round_index": 1, "message": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    for extra in [{}, {"Idempotency-Key": "streamed"}]:
        response = await http.post(
            _chat_path(scenario),
            content=chunks(),
            headers={**auth("bo"), "Content-Type": "application/json", **extra},
        )
        _assert_error_body(response, 413)

    assert await snapshot(scenario) == before


async def test_a_body_just_under_the_limit_is_read(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    response = await scenario.call(
        "POST", _chat_path(scenario), "bo", {"round_index": 1, "message": "x" * (LIMIT - 100)}
    )

    # Read and judged on its content: far over 500 characters, so 400, not 413.
    _assert_error_body(response, 400)


async def test_a_body_that_is_not_json_is_bad_input_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)
    json_type = {"Content-Type": "application/json"}
    attempts: list[tuple[bytes, dict[str, str]]] = [
        (b"not json", json_type),
        (b'{"round_index": 1, "message": "hi"', json_type),
        (b"", json_type),
        (b'{"round_index": 1, "message": "hi"}', {"Content-Type": "text/plain"}),
        (b"round_index=1&message=hi", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b'[{"round_index": 1, "message": "hi"}]', json_type),
        (b"null", json_type),
    ]

    for content, headers in attempts:
        response = await http.post(
            _chat_path(scenario), content=content, headers={**auth("bo"), **headers}
        )
        _assert_error_body(response, 400)

    assert await snapshot(scenario) == before


async def test_wrong_types_and_unknown_enum_values_are_bad_input_and_change_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    before = await snapshot(scenario)
    sid = scenario.session_id
    requests: list[tuple[str, str, str, Any]] = [
        ("POST", "/groups", "ana", {"name": 5}),
        ("POST", f"/groups/{scenario.group_id}/members/invite", "ana", {"user_id": 7}),
        (
            "POST",
            f"/groups/{scenario.group_id}/members/invite",
            "ana",
            {"user_id": "x", "role": "ADMIN"},
        ),
        ("PUT", f"/group-sessions/{sid}/status", "ana", {"status": "DONE"}),
        ("PUT", f"/group-sessions/{sid}/status", "ana", {"status": 1}),
        ("POST", f"/group-sessions/{sid}/rounds/1/advance", "ana", {"to_status": "TALKING"}),
        ("POST", f"/group-sessions/{sid}/rounds/1/advance", "ana", {"to_status": ["DISCUSSING"]}),
        (
            "POST",
            f"/group-sessions/{sid}/events",
            "bo",
            {"round_index": 1, "event_type": "PI_VOTE_SUBMIT", "payload": "A"},
        ),
        (
            "POST",
            f"/group-sessions/{sid}/events",
            "bo",
            {"round_index": 1.0, "event_type": "PI_VOTE_SUBMIT", "payload": {"choice": "A"}},
        ),
        (
            "POST",
            f"/group-sessions/{sid}/events",
            "bo",
            {"round_index": 1, "event_type": 3, "payload": {"choice": "A"}},
        ),
        ("POST", _chat_path(scenario), "bo", {"round_index": True, "message": "hi"}),
    ]

    for method, path, user, body in requests:
        response = await scenario.call(method, path, user, body)
        _assert_error_body(response, 400)

    assert await snapshot(scenario) == before


async def test_a_negative_huge_or_malformed_round_index_is_bad_input_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)
    sid = scenario.session_id
    vote = {"event_type": "PI_VOTE_SUBMIT", "payload": {"choice": "A"}}

    for round_index in ["-1", "0", "11", "99999999999999999999999", "x", "1.5"]:
        as_number: Any = int(round_index) if round_index.lstrip("-").isdigit() else round_index
        responses = [
            await scenario.call(
                "POST",
                f"/group-sessions/{sid}/rounds/{round_index}/advance",
                "ana",
                {"to_status": "VOTING"},
            ),
            await scenario.call(
                "PATCH",
                f"/group-sessions/{sid}/rounds/{round_index}/prompt",
                "ana",
                {"prompt_text": "Q?"},
            ),
            await scenario.call(
                "POST", f"/group-sessions/{sid}/events", "bo", {"round_index": as_number, **vote}
            ),
            await scenario.call(
                "POST", _chat_path(scenario), "bo", {"round_index": as_number, "message": "hi"}
            ),
            await scenario.call(
                "GET", f"/group-sessions/{sid}/events", "bo", params={"round_index": round_index}
            ),
            await scenario.call(
                "GET", _chat_path(scenario), "bo", params={"round_index": round_index}
            ),
        ]
        for response in responses:
            _assert_error_body(response, 400)

    assert await snapshot(scenario) == before


async def test_a_feed_position_or_limit_out_of_range_is_bad_input(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    out_of_range = [
        {"after_seq": "-1"},
        {"after_seq": "99999999999999999999999"},
        {"after_seq": str(2**31)},
        {"after_seq": "x"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "-5"},
    ]

    for params in out_of_range:
        response = await scenario.call(
            "GET", f"/group-sessions/{scenario.session_id}/feed", "bo", params=params
        )
        _assert_error_body(response, 400)


async def test_a_bad_idempotency_key_is_bad_input_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)

    for key in ["", "k" * 65]:
        response = await http.post(
            _chat_path(scenario),
            json={"round_index": 1, "message": "hi"},
            headers={**auth("bo"), "Idempotency-Key": key},
        )
        _assert_error_body(response, 400)

    assert await snapshot(scenario) == before


async def test_a_fault_of_the_server_answers_500_with_the_error_body_not_plain_text(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(groups, "list_groups", broken)
    transport = httpx.ASGITransport(app=service.asgi, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/groups", headers=auth("ana"))

    body = _assert_error_body(response, 500)
    assert body["message"] == "Internal Server Error"  # nothing of the fault is told
