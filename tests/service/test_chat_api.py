"""Session chat over REST: cleaning, limits, the right group, and listing with read cursors."""

from __future__ import annotations

from typing import Any

import httpx

from studygroups.app import Service
from studygroups.identity import Identity
from studygroups.services import chat
from tests.service.observe import feed_events, snapshot
from tests.support import Scenario, make_group, make_session


def _chat_path(scenario: Scenario, group_id: str | None = None) -> str:
    return f"/groups/{group_id or scenario.group_id}/sessions/{scenario.session_id}/chat"


async def _messages(scenario: Scenario, viewer: str, **params: Any) -> dict[str, Any]:
    response = await scenario.call("GET", _chat_path(scenario), viewer, expect=200, params=params)
    body: dict[str, Any] = response.json()
    return body


async def _mark_read(service: Service, user_id: str, session_id: str, message_id: str) -> None:
    """What a socket's `markRead` does (REST has no endpoint for it)."""
    identity = Identity(user_id, f"{user_id}@example.org", user_id.capitalize())
    async with service.units() as uow:
        await chat.mark_read(uow, identity, session_id, message_id)
        await uow.commit()


async def test_a_message_is_trimmed_and_stripped_of_tags(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    response = await scenario.chat("bo", "  <b>I think</b> it is <i>A</i> \n")

    assert response.status_code == 201
    message = response.json()
    assert message["message"] == "I think it is A"
    assert (message["user_id"], message["user_name"], message["user_role"]) == (
        "bo",
        "Bo",
        "SCRIBE",
    )
    assert message["round_index"] == 1
    listed = await _messages(scenario, "ana")
    assert [m["message"] for m in listed["messages"]] == ["I think it is A"]


async def test_a_message_of_one_to_five_hundred_characters_is_accepted(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    for length in [1, 500]:
        response = await scenario.chat("bo", "<p>" + "x" * length + "</p>")
        assert response.status_code == 201
        assert len(response.json()["message"]) == length


async def test_a_message_empty_or_too_long_after_cleaning_is_refused(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    before = await snapshot(scenario)

    for text in ["", "    ", "<b></b>", " <br/> \n ", "x" * 501, "<i>" + "y" * 501 + "</i>"]:
        response = await scenario.chat("bo", text, expect=None)
        assert response.status_code == 400, text[:20]
        assert "500" in response.json()["message"]

    assert await snapshot(scenario) == before


async def test_a_message_must_be_a_string_for_a_round_of_the_session(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)
    before = await snapshot(scenario)

    bodies: list[Any] = [
        {"round_index": 1, "message": 42},
        {"round_index": 1},
        {"message": "hi"},
        {"round_index": "1", "message": "hi"},
        {"round_index": 3, "message": "hi"},
        {"round_index": 0, "message": "hi"},
    ]
    for body in bodies:
        response = await scenario.call("POST", _chat_path(scenario), "bo", body)
        assert response.status_code == 400, body

    assert await snapshot(scenario) == before


async def test_a_session_addressed_through_another_group_is_not_found(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    other = await make_group(http, ["ana"])
    before = await snapshot(scenario)

    for group_id in [other.group_id, "no-such-group"]:
        posted = await scenario.call(
            "POST", _chat_path(scenario, group_id), "ana", {"round_index": 1, "message": "hi"}
        )
        listed = await scenario.call("GET", _chat_path(scenario, group_id), "ana")
        assert (posted.status_code, listed.status_code) == (404, 404), group_id

    assert await snapshot(scenario) == before


async def test_an_unknown_session_has_no_chat(http: httpx.AsyncClient) -> None:
    scenario = await make_group(http, ["ana", "bo"])

    path = f"/groups/{scenario.group_id}/sessions/no-such-session/chat"
    posted = await scenario.call("POST", path, "ana", {"round_index": 1, "message": "hi"})
    listed = await scenario.call("GET", path, "ana")

    assert (posted.status_code, listed.status_code) == (404, 404)


async def test_only_active_group_members_chat_or_read_the_chat(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)

    for user in ["cy", "zed"]:
        posted = await scenario.chat(user, "let me in", expect=None)
        listed = await scenario.call("GET", _chat_path(scenario), user)
        assert (posted.status_code, listed.status_code) == (403, 403), user

    assert (await _messages(scenario, "ana"))["messages"] == []


async def test_messages_are_listed_in_order_with_names_roles_and_per_round(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"], rounds=2)
    await scenario.chat("cy", "first", round_index=1)
    await scenario.chat("ana", "second", round_index=2)
    await scenario.chat("bo", "third", round_index=1)

    everything = await _messages(scenario, "bo")
    second_round = await _messages(scenario, "bo", round_index=2)

    assert [(m["message"], m["user_name"], m["user_role"]) for m in everything["messages"]] == [
        ("first", "Cy", "TIMEKEEPER"),
        ("second", "Ana", "FACILITATOR"),
        ("third", "Bo", "SCRIBE"),
    ]
    seqs = [m["seq"] for m in everything["messages"]]
    assert seqs == sorted(seqs)
    assert [m["message"] for m in second_round["messages"]] == ["second"]


async def test_a_group_member_who_joined_after_the_session_chats_without_a_role(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.call(
        "POST",
        f"/groups/{scenario.group_id}/members/invite",
        "ana",
        {"user_id": "late", "role": "MEMBER"},
        expect=201,
    )
    await scenario.call("POST", f"/groups/{scenario.group_id}/members/accept", "late", expect=200)

    response = await scenario.chat("late", "sorry I'm late")

    assert response.json()["user_role"] is None
    [listed] = (await _messages(scenario, "ana"))["messages"]
    assert (listed["user_id"], listed["user_role"]) == ("late", None)


async def test_chat_is_open_before_the_start_and_after_post_but_not_once_finished(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)
    status_path = f"/group-sessions/{scenario.session_id}/status"

    before_start = await scenario.chat("bo", "ready?", expect=None)
    await scenario.start()
    await scenario.call("PUT", status_path, "ana", {"status": "POST"}, expect=200)
    in_post = await scenario.chat("bo", "good session", expect=None)
    await scenario.call("PUT", status_path, "ana", {"status": "FINISHED"}, expect=200)
    finished = await scenario.chat("bo", "bye", expect=None)

    assert (before_start.status_code, in_post.status_code, finished.status_code) == (
        201,
        201,
        409,
    )
    messages = (await _messages(scenario, "ana"))["messages"]
    assert [m["message"] for m in messages] == ["ready?", "good session"]


async def test_the_chat_list_carries_each_members_read_cursor_which_only_moves_forward(
    http: httpx.AsyncClient, service: Service
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    first = (await scenario.chat("ana", "one")).json()["id"]
    second = (await scenario.chat("ana", "two")).json()["id"]

    await _mark_read(service, "bo", scenario.session_id, second)
    await _mark_read(service, "bo", scenario.session_id, first)
    await _mark_read(service, "cy", scenario.session_id, first)

    cursors = (await _messages(scenario, "ana"))["read_cursors"]
    assert {c["user_id"]: c["message_id"] for c in cursors} == {"bo": second, "cy": first}


async def test_each_message_is_recorded_once_in_the_event_log(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    posted = (await scenario.chat("bo", "<b>hello</b>")).json()

    [event] = [e for e in await feed_events(scenario) if e["event"] == "chat.message"]
    assert event["seq"] == posted["seq"]
    assert (event["data"]["id"], event["data"]["message"]) == (posted["id"], "hello")


async def test_a_refused_message_takes_no_seq(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"])
    await scenario.call("DELETE", f"/groups/{scenario.group_id}/members/cy", "ana", expect=200)
    other = await make_group(http, ["ana"])
    head = max(e["seq"] for e in await feed_events(scenario))

    refused = [
        await scenario.chat("cy", "removed", expect=None),
        await scenario.chat("zed", "stranger", expect=None),
        await scenario.chat("bo", "no such round", round_index=2, expect=None),
        await scenario.call(
            "POST", _chat_path(scenario, other.group_id), "bo", {"round_index": 1, "message": "x"}
        ),
    ]
    posted = (await scenario.chat("bo", "counted")).json()

    assert [r.status_code for r in refused] == [403, 403, 400, 404]
    assert posted["seq"] == head + 1
    assert [e["seq"] for e in await feed_events(scenario)][-1] == head + 1
