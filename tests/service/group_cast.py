"""The cast every group-administration test starts from, built through the public API.

ana (ACTIVE OWNER), mo (ACTIVE MOD), mem (ACTIVE MEMBER), inv (INVITED as OWNER), rem (a MOD who
was REMOVED) and out (never a member). Every user has called the API once, so the owner's view
of the group changes only when the group does: a refused request must leave it as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import auth

NOT_ALLOWED = ["mem", "inv", "rem", "out"]  # for what an OWNER or MOD may do
NOT_OWNERS = ["mo", *NOT_ALLOWED]  # for what only an OWNER may do


@dataclass
class Cast:
    http: httpx.AsyncClient
    group_id: str

    async def call(
        self, method: str, path: str, user: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.http.request(
            method, f"/groups/{self.group_id}{path}", json=body, headers={**auth(user), **headers}
        )

    async def view(self, user: str = "ana") -> dict[str, Any]:
        response = await self.call("GET", "", user)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def role_of(self, user: str) -> tuple[str, str]:
        member = next(m for m in (await self.view())["members"] if m["user_id"] == user)
        return member["role"], member["status"]

    async def add(self, content_id: str, user: str = "ana") -> httpx.Response:
        return await self.call("POST", "/contents", user, {"content_id": content_id})


async def expect(response: httpx.Response, status: int) -> httpx.Response:
    assert response.status_code == status, response.text
    return response


async def make_cast(http: httpx.AsyncClient, contents: tuple[str, ...] = ("c1",)) -> Cast:
    created = await expect(
        await http.post(
            "/groups", json={"name": "Physics", "scope_type": "course"}, headers=auth("ana")
        ),
        201,
    )
    cast = Cast(http, created.json()["id"])
    for user, role in [("mo", "MOD"), ("mem", "MEMBER"), ("rem", "MOD"), ("inv", "OWNER")]:
        await expect(
            await cast.call("POST", "/members/invite", "ana", {"user_id": user, "role": role}), 201
        )
    for user in ("mo", "mem", "rem"):
        await expect(await cast.call("POST", "/members/accept", user), 200)
    await expect(await cast.call("DELETE", "/members/rem", "ana"), 200)
    for user in ("inv", "out"):  # every user's record is learned before the test acts
        await expect(await http.get("/groups", headers=auth(user)), 200)
    for content_id in contents:
        await expect(await cast.add(content_id), 201)
    return cast
