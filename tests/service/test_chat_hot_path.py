"""The chat POST's hot path (api/hot_path.py) answers every request exactly as FastAPI does.

Each request is sent twice: as it is, which the hot path serves, and with a query string,
which it leaves to FastAPI (the route ignores queries). Status, headers that matter and body
must be the same, apart from what each new message gets (id, seq, time).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from studygroups.app import Service
from tests.conftest import auth, token
from tests.service.observe import feed_events
from tests.support import Scenario, make_session

VOLATILE = ("id", "seq", "created_at")
ORIGIN = "http://localhost:3000"


def _path(scenario: Scenario, group_id: str | None = None, session_id: str | None = None) -> str:
    group, session = group_id or scenario.group_id, session_id or scenario.session_id
    return f"/groups/{group}/sessions/{session}/chat"


async def _both(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], content: bytes | None = None
) -> tuple[httpx.Response, httpx.Response]:
    """(the hot path's answer, FastAPI's answer) to the same POST."""
    sent: dict[str, Any] = {"headers": {"Content-Type": "application/json", **headers}}
    if content is not None:
        sent["content"] = content
    hot = await http.post(path, **sent)
    slow = await http.post(path + "?via=fastapi", **sent)
    return hot, slow


def _same(hot: httpx.Response, slow: httpx.Response) -> None:
    assert hot.status_code == slow.status_code, (hot.text, slow.text)
    for header in (
        "content-type",
        "www-authenticate",
        "retry-after",
        "access-control-allow-origin",
    ):
        assert hot.headers.get(header) == slow.headers.get(header), header
    hot_body, slow_body = hot.json(), slow.json()
    if hot.status_code == 201:
        for key in VOLATILE:
            assert hot_body.pop(key) != slow_body.pop(key)
    assert hot_body == slow_body


def _body(message: Any = "hello", round_index: Any = 1) -> bytes:
    return httpx.Request("POST", "/", json={"round_index": round_index, "message": message}).content


async def test_a_member_posting_gets_the_same_201_from_both_paths_and_both_messages_are_stored(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    hot, slow = await _both(http, _path(scenario), auth("bo"), _body("  <b>hi</b> "))

    _same(hot, slow)
    assert hot.status_code == 201
    assert hot.json()["message"] == "hi"
    chat = [e for e in await feed_events(scenario) if e["event"] == "chat.message"]
    assert [e["data"]["id"] for e in chat] == [hot.json()["id"], slow.json()["id"]]


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("no token", _body()),
        ("a bad token", _body()),
        ("not a member", _body()),
        ("another group", _body()),
        ("an unknown session", _body()),
        ("a NUL in the path", _body()),
        ("a round the session does not have", _body(round_index=2)),
        ("an empty message after cleaning", _body("<b></b>")),
        ("a NUL in the message", _body("a\x00b")),
        ("a round index that is a string", _body(round_index="1")),
        ("a message that is not a string", _body(message=5)),
        ("a body that is not JSON", b"{round_index: 1"),
        ("an empty body", b""),
        ("a body that is a list", b"[1, 2]"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_a_refused_post_gets_the_same_error_from_both_paths_and_changes_nothing(
    http: httpx.AsyncClient, case: str, body: bytes
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await feed_events(scenario)
    headers, path = auth("bo"), _path(scenario)
    if case == "no token":
        headers = {}
    elif case == "a bad token":
        headers = {"Authorization": "Bearer not-a-token"}
    elif case == "not a member":
        headers = auth("stranger")
    elif case == "another group":
        other = await make_session(http, ["bo", "cy"])
        path = _path(scenario, group_id=other.group_id)
    elif case == "an unknown session":
        path = _path(scenario, session_id="no-such-session")
    elif case == "a NUL in the path":
        path = _path(scenario, session_id="a%00b")

    hot, slow = await _both(http, path, headers, body)

    _same(hot, slow)
    assert hot.status_code in (400, 401, 403, 404), case
    assert await feed_events(scenario) == before


async def test_a_browser_post_gets_the_same_cors_headers_from_both_paths(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    hot, slow = await _both(http, _path(scenario), {**auth("bo"), "Origin": ORIGIN}, _body())

    _same(hot, slow)
    assert hot.headers["access-control-allow-origin"] == ORIGIN


async def test_a_repeated_idempotency_key_answers_the_first_post_again_and_stores_one_message(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    headers = {**auth("bo"), "Idempotency-Key": "post-1", "Content-Type": "application/json"}

    first = await http.post(_path(scenario), headers=headers, content=_body("once"))
    again = await http.post(_path(scenario), headers=headers, content=_body("once"))
    other = await http.post(_path(scenario), headers=headers, content=_body("twice"))

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 409)
    assert again.json() == first.json()
    chat = [e for e in await feed_events(scenario) if e["event"] == "chat.message"]
    assert [e["data"]["message"] for e in chat] == ["once"]


async def test_the_latency_metric_names_the_chat_route_for_both_paths(
    http: httpx.AsyncClient, service: Service
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    await _both(http, _path(scenario), auth("bo"), _body())

    metrics = (await http.get("/metrics")).text
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith("studygroups_http_request_seconds_count")
        and 'route="/groups/{group_id}/sessions/{session_id}/chat"' in line
    )
    assert line.endswith(" 2.0")


async def test_a_post_with_an_expired_token_is_refused_alike(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    expired = {"Authorization": f"Bearer {token('bo', ttl=-10)}"}

    hot, slow = await _both(http, _path(scenario), expired, _body())

    _same(hot, slow)
    assert hot.status_code == 401
