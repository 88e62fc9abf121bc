"""Retries with an Idempotency-Key: the first answer again, and nothing recorded twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from studygroups.app import Service, build
from studygroups.ratelimit import Limit, RateLimiter
from studygroups.services.commands import purge_expired_keys
from tests.conftest import LiveServer, auth, make_settings
from tests.service.observe import feed_events, session_seq, snapshot
from tests.support import Scenario, make_session


async def _with_key(
    http: httpx.AsyncClient, method: str, path: str, user: str, key: str, body: Any = None
) -> httpx.Response:
    return await http.request(
        method, path, json=body, headers={**auth(user), "Idempotency-Key": key}
    )


KEPT_FOR = timedelta(hours=24)  # API.md: a key is remembered for at least 24 hours


def _chat_path(scenario: Scenario) -> str:
    return f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat"


def _events_path(scenario: Scenario) -> str:
    return f"/group-sessions/{scenario.session_id}/events"


def _vote(choice: str = "A") -> dict[str, Any]:
    return {"round_index": 1, "event_type": "PI_VOTE_SUBMIT", "payload": {"choice": choice}}


async def test_a_retried_vote_gets_the_first_answer_and_records_no_new_event(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    first = await _with_key(http, "POST", _events_path(scenario), "bo", "vote-1", _vote())
    after_first = await snapshot(scenario)

    retry = await _with_key(http, "POST", _events_path(scenario), "bo", "vote-1", _vote())

    assert first.status_code == 201
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert await snapshot(scenario) == after_first
    votes = [e for e in await feed_events(scenario) if e["event"] == "vote.submitted"]
    assert len(votes) == 1


async def test_a_retried_chat_message_is_posted_once(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    body = {"round_index": 1, "message": "hello"}

    first = await _with_key(http, "POST", _chat_path(scenario), "bo", "msg-1", body)
    retry = await _with_key(http, "POST", _chat_path(scenario), "bo", "msg-1", body)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    listed = await scenario.call("GET", _chat_path(scenario), "ana", expect=200)
    assert [m["id"] for m in listed.json()["messages"]] == [first.json()["id"]]


async def test_a_retried_advance_answers_as_the_first_did_instead_of_a_conflict(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    path = f"/group-sessions/{scenario.session_id}/rounds/1/advance"
    body = {"to_status": "VOTING"}

    first = await _with_key(http, "POST", path, "ana", "adv-1", body)
    seq = await session_seq(scenario)
    retry = await _with_key(http, "POST", path, "ana", "adv-1", body)
    fresh = await _with_key(http, "POST", path, "ana", "adv-2", body)

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()
    assert fresh.status_code == 409
    assert await session_seq(scenario) == seq


async def test_retried_start_status_and_prompt_changes_are_applied_once(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], start=False)
    sid = scenario.session_id
    calls: list[tuple[str, str, Any]] = [
        ("PUT", f"/group-sessions/{sid}/start", None),
        ("PATCH", f"/group-sessions/{sid}/rounds/1/prompt", {"prompt_text": "Q?"}),
        ("PUT", f"/group-sessions/{sid}/status", {"status": "POST"}),
    ]

    for number, (method, path, body) in enumerate(calls):
        key = f"call-{number}"
        first = await _with_key(http, method, path, "ana", key, body)
        seq = await session_seq(scenario)
        retry = await _with_key(http, method, path, "ana", key, body)
        assert first.status_code == 200, first.text
        assert (retry.status_code, retry.json()) == (200, first.json())
        assert await session_seq(scenario) == seq

    events = [e["event"] for e in await feed_events(scenario)]
    assert events == ["session.started", "prompt.updated", "session.statusChanged"]


async def test_a_retried_group_creation_creates_one_group(http: httpx.AsyncClient) -> None:
    first = await _with_key(http, "POST", "/groups", "ana", "group-1", {"name": "Bio"})
    retry = await _with_key(http, "POST", "/groups", "ana", "group-1", {"name": "Bio"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    listed = await http.get("/groups", headers=auth("ana"))
    assert [g["id"] for g in listed.json()] == [first.json()["id"]]


async def test_the_same_key_with_a_different_request_is_a_conflict_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    await _with_key(http, "POST", _events_path(scenario), "bo", "key-1", _vote("A"))
    before = await snapshot(scenario)

    other_body = await _with_key(http, "POST", _events_path(scenario), "bo", "key-1", _vote("B"))
    other_path = await _with_key(
        http, "POST", _chat_path(scenario), "bo", "key-1", {"round_index": 1, "message": "hi"}
    )

    for response in (other_body, other_path):
        assert response.status_code == 409
        assert response.json()["statusCode"] == 409
        assert "Idempotency-Key" in response.json()["message"]
    assert await snapshot(scenario) == before


async def test_the_same_key_for_another_group_is_a_conflict_not_the_first_groups_session(
    http: httpx.AsyncClient,
) -> None:
    first_group = await make_session(http, ["ana", "bo"], start=False)
    second_group = await make_session(http, ["ana", "cy"], start=False)
    body = {"rounds_count": 2}
    path = "/group-sessions?groupId="

    first = await _with_key(http, "POST", path + first_group.group_id, "ana", "new", body)
    second = await _with_key(http, "POST", path + second_group.group_id, "ana", "new", body)

    assert first.status_code == 201
    assert second.status_code == 409
    listed = await http.get(f"/groups/{second_group.group_id}/sessions", headers=auth("ana"))
    assert [s["id"] for s in listed.json()] == [second_group.session_id]


async def test_keys_belong_to_the_user_who_sent_them(http: httpx.AsyncClient) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    body = {"round_index": 1, "message": "same words"}

    by_ana = await _with_key(http, "POST", _chat_path(scenario), "ana", "shared-key", body)
    by_bo = await _with_key(http, "POST", _chat_path(scenario), "bo", "shared-key", body)

    assert (by_ana.status_code, by_bo.status_code) == (201, 201)
    assert (by_ana.json()["user_id"], by_bo.json()["user_id"]) == ("ana", "bo")
    listed = await scenario.call("GET", _chat_path(scenario), "ana", expect=200)
    assert [m["user_id"] for m in listed.json()["messages"]] == ["ana", "bo"]


async def test_a_refused_request_is_not_remembered_so_its_key_works_once_allowed(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.advance(1, "VOTING")
    path = f"/group-sessions/{scenario.session_id}/rounds/1/advance"
    body = {"to_status": "DISCUSSING"}

    refused = await _with_key(http, "POST", path, "ana", "adv", body)
    await scenario.vote_all(1)
    accepted = await _with_key(http, "POST", path, "ana", "adv", body)

    assert refused.status_code == 409
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "DISCUSSING"


async def test_concurrent_twins_get_the_same_answer_and_record_one_event(
    live: LiveServer,
) -> None:
    async with (
        httpx.AsyncClient(base_url=live.url) as setup,
        httpx.AsyncClient(base_url=live.url, headers=auth("bo")) as first,
        httpx.AsyncClient(base_url=live.url, headers=auth("bo")) as second,
    ):
        scenario = await make_session(setup, ["ana", "bo"])
        await scenario.advance(1, "VOTING")
        requests = []
        for number in range(5):
            key = {"Idempotency-Key": f"twin-{number}"}
            body = {"round_index": 1, "message": f"twin {number}"}
            requests += [
                first.post(_chat_path(scenario), json=body, headers=key),
                second.post(_chat_path(scenario), json=body, headers=key),
            ]
        requests += [
            first.post(_events_path(scenario), json=_vote(), headers={"Idempotency-Key": "v"}),
            second.post(_events_path(scenario), json=_vote(), headers={"Idempotency-Key": "v"}),
        ]

        responses = await asyncio.gather(*requests)

        for one, other in zip(responses[::2], responses[1::2], strict=True):
            assert one.status_code == 201, one.text
            assert (other.status_code, other.json()) == (one.status_code, one.json())
        events = await feed_events(scenario)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert sum(e["event"] == "chat.message" for e in events) == 5
        assert sum(e["event"] == "vote.submitted" for e in events) == 1


async def test_a_key_is_honoured_for_24_hours_and_forgotten_once_purged_after_that(
    database_url: str, tmp_path: Path
) -> None:
    clock = MovableClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    service = build(make_settings(database_url, tmp_path), clock=clock)
    transport = httpx.ASGITransport(app=service.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            first = await _with_key(http, "POST", "/groups", "ana", "group-1", {"name": "Bio"})

            clock.now += KEPT_FOR
            await purge_expired_keys(service.units)
            a_day_later = await _with_key(
                http, "POST", "/groups", "ana", "group-1", {"name": "Bio"}
            )
            clock.now += timedelta(seconds=1)
            await purge_expired_keys(service.units)
            after_purge = await _with_key(
                http, "POST", "/groups", "ana", "group-1", {"name": "Bio"}
            )

            listed = await http.get("/groups", headers=auth("ana"))
    finally:
        await service.database.dispose()
    assert (first.status_code, a_day_later.status_code) == (201, 201)
    assert a_day_later.json()["id"] == first.json()["id"]
    assert after_purge.status_code == 201
    assert after_purge.json()["id"] != first.json()["id"]
    assert {g["id"] for g in listed.json()} == {first.json()["id"], after_purge.json()["id"]}


class MovableClock:
    """The unit of work's clock, moved by the test: `build(settings, clock=...)`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def test_answers_kept_for_retries_are_bounded_per_user_and_past_it_nothing_changes(
    service: Service, http: httpx.AsyncClient
) -> None:
    """Each keyed write keeps its answer 24 h; a user repeating a write whose answer is big (a
    group's detail, 148 kB with a full playlist) could fill the disk at the write rate."""
    scenario = await make_session(http, ["ana", "bo"])
    path = f"/groups/{scenario.group_id}"
    await http.post(
        f"{path}/members/invite", json={"user_id": "mo", "role": "MOD"}, headers=auth("ana")
    )
    await http.post(f"{path}/members/accept", headers=auth("mo"))
    service.api.state.api.kept_answers = RateLimiter(Limit(rate=0.0, burst=2_000))

    answers = [
        await _with_key(http, "PATCH", path, "ana", f"rename-{n}", {"name": f"Group {n}"})
        for n in range(8)
    ]
    codes = [answer.status_code for answer in answers]
    kept = codes.index(429)
    renamed = await http.get(path, headers=auth("ana"))
    unkeyed = await http.patch(path, json={"name": "Without a key"}, headers=auth("ana"))
    retried = await _with_key(http, "PATCH", path, "ana", "rename-0", {"name": "Group 0"})
    other = await _with_key(http, "PATCH", path, "mo", "mo-1", {"name": "By Mo"})

    assert 1 <= kept < 8 and set(codes[kept:]) == {429}, codes
    assert "Idempotency-Key" in answers[kept].json()["message"]
    assert renamed.json()["name"] == f"Group {kept - 1}"  # the refused renames changed nothing
    assert unkeyed.status_code == 200  # writes without a key keep nothing, so they go on
    assert (retried.status_code, retried.json()) == (200, answers[0].json())  # kept ones replay
    assert other.status_code == 200, other.text  # another user has a budget of their own
