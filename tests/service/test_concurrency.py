"""Requests racing each other through a live server, on SQLite and PostgreSQL.

Each user has their own HTTP client (their own connection), and the requests are sent with
asyncio.gather, so the server handles them at the same time and the database decides.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from tests.conftest import LiveServer, auth
from tests.service.observe import feed_events, round_of
from tests.support import make_session


@asynccontextmanager
async def clients(
    live: LiveServer, users: list[str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client per user, each with its own connection to the live server."""
    async with AsyncExitStack() as stack:
        yield {
            user: await stack.enter_async_context(
                httpx.AsyncClient(base_url=live.url, headers=auth(user), timeout=30)
            )
            for user in users
        }


async def test_two_facilitators_advancing_the_same_round_at_once_succeed_exactly_once(
    live: LiveServer,
) -> None:
    # "ana" is dealt FACILITATOR (first sorted id); "zoe" owns the group, so both may advance.
    async with httpx.AsyncClient(base_url=live.url) as setup:
        scenario = await make_session(setup, ["zoe", "ana", "bo"])
        assert scenario.facilitator == "ana"
        path = f"/group-sessions/{scenario.session_id}/rounds/1/advance"
        steps = ["VOTING", "DISCUSSING", "REVOTING", "EXPLAINING"]

        async with clients(live, ["ana", "zoe"]) as by:
            for status in steps:
                body = {"to_status": status, "force": True}
                responses = await asyncio.gather(
                    by["ana"].post(path, json=body), by["zoe"].post(path, json=body)
                )
                assert sorted(r.status_code for r in responses) == [200, 409], status

        events = await feed_events(scenario)
        advanced = [e["data"]["status"] for e in events if e["event"] == "round.advanced"]
        assert advanced == steps
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


async def test_two_facilitators_starting_the_same_session_at_once_start_it_once(
    live: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as setup:
        scenario = await make_session(setup, ["zoe", "ana"], start=False)
        path = f"/group-sessions/{scenario.session_id}/start"

        async with clients(live, ["ana", "zoe"]) as by:
            responses = await asyncio.gather(by["ana"].put(path), by["zoe"].put(path))

        assert sorted(r.status_code for r in responses) == [200, 409]
        assert [e["event"] for e in await feed_events(scenario)] == ["session.started"]


async def test_twenty_members_voting_and_chatting_at_once_are_each_counted_once(
    live: LiveServer,
) -> None:
    members = [f"m{number:02d}" for number in range(20)]
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as setup:
        scenario = await make_session(setup, members)
        await scenario.advance(1, "VOTING")
        events_path = f"/group-sessions/{scenario.session_id}/events"
        chat_path = f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat"
        vote = {"round_index": 1, "event_type": "PI_VOTE_SUBMIT", "payload": {"choice": "A"}}

        async with clients(live, members) as by:
            responses = await asyncio.gather(
                *(by[user].post(events_path, json=vote) for user in members),
                *(
                    by[user].post(chat_path, json={"round_index": 1, "message": f"hi {user}"})
                    for user in members
                ),
            )

        assert [r.status_code for r in responses] == [201] * 40, [r.text for r in responses]
        session = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "m00")
        progress = round_of(session.json(), 1)["vote_progress"]
        assert (progress["voted"], progress["voted_user_ids"]) == (20, members)
        events = await feed_events(scenario)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        voters = [e["data"]["userId"] for e in events if e["event"] == "vote.submitted"]
        assert sorted(voters) == members
        chats = [e["data"]["userId"] for e in events if e["event"] == "chat.message"]
        assert sorted(chats) == members
        await scenario.advance(1, "DISCUSSING")


async def test_one_member_voting_many_times_at_once_still_counts_once(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url) as setup:
        scenario = await make_session(setup, ["ana", "bo"])
        await scenario.advance(1, "VOTING")
        path = f"/group-sessions/{scenario.session_id}/events"

        async with AsyncExitStack() as stack:
            connections = [
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=live.url, headers=auth("bo"), timeout=30)
                )
                for _ in range(8)
            ]
            responses = await asyncio.gather(
                *(
                    client.post(
                        path,
                        json={
                            "round_index": 1,
                            "event_type": "PI_VOTE_SUBMIT",
                            "payload": {"choice": f"choice {number}"},
                        },
                    )
                    for number, client in enumerate(connections)
                )
            )

        assert [r.status_code for r in responses] == [201] * 8
        activity = await scenario.call("GET", path, "bo", expect=200)
        assert [e["user_id"] for e in activity.json()] == ["bo"]
        gate = await scenario.advance(1, "DISCUSSING", expect=409)
        assert (gate.json()["current"], gate.json()["missing"]) == (1, ["ana"])
