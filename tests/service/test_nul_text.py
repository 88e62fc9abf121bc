"""Text holding a NUL character (U+0000), which PostgreSQL cannot store, is refused with 400 on
every database before anything is written (schemathesis found it answered 500 on PostgreSQL)."""

from __future__ import annotations

import httpx

from studygroups.identity import mint_token
from tests.conftest import SECRET, auth
from tests.service.observe import feed_events
from tests.support import make_session

NUL_MESSAGE = "text must not contain NUL characters"


async def test_a_body_with_a_nul_character_anywhere_is_refused_with_400_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    sid, group = scenario.session_id, scenario.group_id
    invite = f"/groups/{group}/members/invite"
    chat = f"/groups/{group}/sessions/{sid}/chat"
    events = f"/group-sessions/{sid}/events"

    answers = [
        await scenario.call("POST", invite, "ana", {"user_id": "c\x00y", "role": "MEMBER"}),
        await scenario.call("POST", chat, "bo", {"round_index": 1, "message": "hi\x00"}),
        await scenario.call(
            "POST", events, "bo", {"round_index": 1, "event_type": "X", "payload": {"\x00": 1}}
        ),
        await scenario.call("POST", "/groups", "ana", {"name": "G\x00"}),
    ]

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert NUL_MESSAGE in answer.json()["message"]
    group_now = (await scenario.call("GET", f"/groups/{group}", "ana", expect=200)).json()
    assert [m["user_id"] for m in group_now["members"]] == ["ana", "bo"]
    assert (await scenario.call("GET", "/groups", "ana", expect=200)).json()[0]["name"] == "Group"
    assert [e["event"] for e in await feed_events(scenario)] == ["session.started"]


async def test_an_id_or_a_query_with_a_nul_character_is_answered_400_not_a_server_error(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    for method, path in [
        ("GET", "/groups/g%00"),
        ("DELETE", f"/groups/{scenario.group_id}/members/b%00o"),
        ("GET", f"/group-sessions/{scenario.session_id}%00/feed"),
        ("POST", "/group-sessions?groupId=g%00"),
    ]:
        body = {"rounds_count": 1} if method == "POST" else None
        answer = await scenario.call(method, path, "ana", body)
        assert answer.status_code == 400, f"{method} {path}: {answer.text}"
        assert NUL_MESSAGE in answer.json()["message"]


async def test_a_token_whose_name_holds_a_nul_character_is_refused_as_invalid(
    http: httpx.AsyncClient,
) -> None:
    token = mint_token(SECRET, "ana", "An\x00a", "ana@example.org", 3600)

    answer = await http.get("/groups", headers={"Authorization": f"Bearer {token}"})

    assert answer.status_code == 401, answer.text
    assert (await http.get("/groups", headers=auth("ana"))).status_code == 200
