"""REST writes are limited per user: a flood gets 429 with Retry-After and stores nothing more."""

from __future__ import annotations

import asyncio

import httpx

from tests.support import make_session


async def test_a_user_flooding_writes_gets_429_with_retry_after_and_nothing_extra_is_stored(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])

    answers = await asyncio.gather(
        *(scenario.chat("bo", f"spam {i}", expect=None) for i in range(160))
    )

    refused = [a for a in answers if a.status_code == 429]
    stored = [a for a in answers if a.status_code == 201]
    assert refused and len(stored) + len(refused) == len(answers)
    assert refused[0].headers["Retry-After"] == "1"
    assert refused[0].json()["statusCode"] == 429
    listed = await scenario.call(
        "GET", f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat", "ana", expect=200
    )
    assert len(listed.json()["messages"]) == len(stored)
