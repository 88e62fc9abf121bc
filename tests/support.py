"""Test helpers that speak the REST API like a client would: groups, sessions, rounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import auth


@dataclass
class Scenario:
    """A group of members and (optionally) a session of it, built through the public API."""

    http: httpx.AsyncClient
    group_id: str
    members: list[str]
    session_id: str = ""
    session: dict[str, Any] | None = None

    @property
    def owner(self) -> str:
        return self.members[0]

    def role_of(self, role: str) -> str:
        assert self.session is not None
        return str(next(m["user_id"] for m in self.session["members"] if m["role"] == role))

    @property
    def facilitator(self) -> str:
        return self.role_of("FACILITATOR")

    @property
    def scribe(self) -> str:
        return self.role_of("SCRIBE")

    async def call(
        self,
        method: str,
        path: str,
        user: str,
        body: Any = None,
        expect: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        response = await self.http.request(method, path, json=body, headers=auth(user), **kwargs)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    async def start(self) -> None:
        await self.call(
            "PUT", f"/group-sessions/{self.session_id}/start", self.facilitator, expect=200
        )

    async def advance(
        self, round_index: int, to_status: str, *, force: bool = False, expect: int | None = 200
    ) -> httpx.Response:
        return await self.call(
            "POST",
            f"/group-sessions/{self.session_id}/rounds/{round_index}/advance",
            self.facilitator,
            {"to_status": to_status, "force": force},
            expect=expect,
        )

    async def submit(
        self,
        user: str,
        round_index: int,
        event_type: str,
        payload: dict[str, Any],
        expect: int | None = 201,
    ) -> httpx.Response:
        return await self.call(
            "POST",
            f"/group-sessions/{self.session_id}/events",
            user,
            {"round_index": round_index, "event_type": event_type, "payload": payload},
            expect=expect,
        )

    async def vote_all(self, round_index: int, event_type: str = "PI_VOTE_SUBMIT") -> None:
        for user in self.members:
            await self.submit(user, round_index, event_type, {"choice": "A"})

    async def chat(
        self, user: str, message: str, round_index: int = 1, expect: int | None = 201
    ) -> httpx.Response:
        return await self.call(
            "POST",
            f"/groups/{self.group_id}/sessions/{self.session_id}/chat",
            user,
            {"round_index": round_index, "message": message},
            expect=expect,
        )

    async def run_round(self, round_index: int) -> None:
        """Take a round through every status with everyone voting and the scribe explaining."""
        await self.advance(round_index, "VOTING")
        await self.vote_all(round_index)
        await self.advance(round_index, "DISCUSSING")
        await self.advance(round_index, "REVOTING")
        await self.vote_all(round_index, "PI_REVOTE_SUBMIT")
        await self.advance(round_index, "EXPLAINING")
        await self.submit(
            self.scribe, round_index, "GROUP_EXPLANATION_SUBMIT", {"explanation": "Because A."}
        )
        await self.advance(round_index, "DONE")


async def make_group(http: httpx.AsyncClient, members: list[str]) -> Scenario:
    """members[0] creates the group; the others are invited and accept."""
    owner = members[0]
    response = await http.post("/groups", json={"name": "Group"}, headers=auth(owner))
    assert response.status_code == 201, response.text
    group_id = response.json()["id"]
    for user in members[1:]:
        invite = await http.post(
            f"/groups/{group_id}/members/invite",
            json={"user_id": user, "role": "MEMBER"},
            headers=auth(owner),
        )
        assert invite.status_code == 201, invite.text
        accept = await http.post(f"/groups/{group_id}/members/accept", headers=auth(user))
        assert accept.status_code == 200, accept.text
    return Scenario(http=http, group_id=group_id, members=members)


async def make_session(
    http: httpx.AsyncClient,
    members: list[str],
    *,
    rounds: int = 1,
    start: bool = True,
    **options: Any,
) -> Scenario:
    scenario = await make_group(http, members)
    response = await http.post(
        f"/group-sessions?groupId={scenario.group_id}",
        json={"rounds_count": rounds, **options},
        headers=auth(members[0]),
    )
    assert response.status_code == 201, response.text
    scenario.session = response.json()
    scenario.session_id = scenario.session["id"]
    if start:
        await scenario.start()
    return scenario
