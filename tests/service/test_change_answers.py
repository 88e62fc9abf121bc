"""Answers of changes (API.md §3): each carries the `seq` of the event it recorded, so a client
can match its own write to the event it hears; a replayed answer carries the first run's seq."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import auth
from tests.service.observe import feed_events
from tests.support import Scenario, make_session


def _answered(response: httpx.Response, expected_status: int = 200) -> tuple[int, Any]:
    assert response.status_code == expected_status, response.text
    seq = response.json()["seq"]
    assert isinstance(seq, int)
    return seq, response.json()


async def test_every_answer_to_a_change_carries_the_seq_of_the_event_it_recorded(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo", "cy"], start=False)
    sid, ana = scenario.session_id, scenario.facilitator
    answers: list[tuple[int, str]] = []

    async def change(event: str, method: str, path: str, user: str, body: Any = None) -> None:
        expected = 201 if method == "POST" and path.endswith(("/events", "/chat")) else 200
        seq, _ = _answered(await scenario.call(method, path, user, body), expected)
        answers.append((seq, event))

    async def advance(to_status: str) -> None:
        # Closing a vote records round.advanced then round.results: the answer carries the last.
        closes_a_vote = to_status in ("DISCUSSING", "EXPLAINING")
        event = "round.results" if closes_a_vote else "round.advanced"
        path = f"/group-sessions/{sid}/rounds/1/advance"
        await change(event, "POST", path, ana, {"to_status": to_status})

    async def submit(user: str, event: str, event_type: str, payload: dict[str, Any]) -> None:
        body = {"round_index": 1, "event_type": event_type, "payload": payload}
        await change(event, "POST", f"/group-sessions/{sid}/events", user, body)

    await change("session.started", "PUT", f"/group-sessions/{sid}/start", ana)
    prompt = {"prompt_text": "Which?", "options": ["A", "B"]}
    await change("prompt.updated", "PATCH", f"/group-sessions/{sid}/rounds/1/prompt", ana, prompt)
    await change("prompt.updated", "PUT", f"/group-sessions/{sid}/rounds/1/prompt", ana, prompt)
    await advance("VOTING")
    for user in scenario.members:
        await submit(user, "vote.submitted", "PI_VOTE_SUBMIT", {"choice": "A"})
    await advance("DISCUSSING")
    chat = f"/groups/{scenario.group_id}/sessions/{sid}/chat"
    await change("chat.message", "POST", chat, "bo", {"round_index": 1, "message": "B!"})
    await advance("REVOTING")
    for user in scenario.members:
        await submit(user, "revote.submitted", "PI_REVOTE_SUBMIT", {"choice": "B"})
    await advance("EXPLAINING")
    scribe = scenario.role_of("SCRIBE")
    await submit(scribe, "sharedCard.created", "GROUP_EXPLANATION_SUBMIT", {"explanation": "B."})
    await advance("DONE")
    status = f"/group-sessions/{sid}/status"
    await change("session.statusChanged", "PUT", status, ana, {"status": "POST"})
    await change("session.ended", "PUT", status, ana, {"status": "FINISHED"})

    feed = [(e["seq"], e["event"]) for e in await feed_events(scenario)]
    last_of_each_change = [
        entry
        for entry, after in zip(feed, [*feed[1:], None], strict=True)
        if not (entry[1] == "round.advanced" and after is not None and after[1] == "round.results")
    ]
    assert answers == last_of_each_change
    assert len(feed) == len(answers) + 2  # the two advances that closed a vote recorded two


async def test_a_replayed_change_answers_with_the_seq_of_its_first_run(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    sid = scenario.session_id
    calls: list[tuple[str, str, str, Any]] = [
        ("POST", f"/group-sessions/{sid}/rounds/1/advance", "ana", {"to_status": "VOTING"}),
        ("POST", f"/group-sessions/{sid}/events", "bo", _vote()),
        ("PATCH", f"/group-sessions/{sid}/rounds/1/prompt", "ana", {"prompt_text": "Q?"}),
        ("PUT", f"/group-sessions/{sid}/status", "ana", {"status": "POST"}),
    ]

    for number, (method, path, user, body) in enumerate(calls):
        headers = {**auth(user), "Idempotency-Key": f"key-{number}"}
        first = await http.request(method, path, json=body, headers=headers)
        await scenario.chat("ana", f"after call {number}")  # the session's head moves on
        replay = await http.request(method, path, json=body, headers=headers)

        first_seq, first_body = _answered(first, first.status_code)
        assert first.status_code in (200, 201), first.text
        assert replay.json() == first_body
        assert replay.json()["seq"] == first_seq
        assert (await _event_at(scenario, first_seq))["event"] != "chat.message"


def _vote() -> dict[str, Any]:
    return {"round_index": 1, "event_type": "PI_VOTE_SUBMIT", "payload": {"choice": "A"}}


async def _event_at(scenario: Scenario, seq: int) -> dict[str, Any]:
    return next(e for e in await feed_events(scenario) if e["seq"] == seq)
