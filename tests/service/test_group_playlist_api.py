"""A group's content playlist over REST: POST and DELETE /groups/:groupId/contents, on SQLite
and PostgreSQL. The cast is described in tests/service/group_cast.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from studygroups.api.schemas import ContentAnswer
from studygroups.app import build
from tests.conftest import auth, make_settings
from tests.service.group_cast import NOT_ALLOWED, expect, make_cast

# --- POST /groups/:groupId/contents ----------------------------------------------------------


@pytest.mark.parametrize("editor", ["ana", "mo"])
async def test_an_owner_or_mod_adds_contents_at_the_end_of_the_playlist(
    http: httpx.AsyncClient, editor: str
) -> None:
    cast = await make_cast(http)

    added = await cast.add("c2", user=editor)

    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["content_id"], body["position"], body["added_by"]) == ("c2", 2, editor)
    assert set(body) == set(ContentAnswer.model_fields)
    assert body["added_at"].endswith("Z")
    assert (await cast.view())["contents"][-1] == body


async def test_a_content_already_on_the_playlist_is_a_conflict(http: httpx.AsyncClient) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.add("c1", user="mo")

    assert response.status_code == 409, response.text
    assert "already" in response.json()["message"]
    assert await cast.view() == before


@pytest.mark.parametrize(
    "body",
    [
        {"content_id": ""},
        {"content_id": "x" * 201},
        {"content_id": " c2"},
        {"content_id": "c\t2"},
        {"content_id": 2},
        {"content_id": None},
        {},
        None,
    ],
)
async def test_an_invalid_content_id_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, body: Any
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("POST", "/contents", "ana", body)

    assert response.status_code == 400, response.text
    assert await cast.view() == before


@pytest.mark.parametrize("user", NOT_ALLOWED)
async def test_only_an_active_owner_or_mod_adds_contents(
    http: httpx.AsyncClient, user: str
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.add("c2", user=user)

    assert response.status_code == 403, response.text
    assert await cast.view() == before


async def test_adding_to_an_unknown_groups_playlist_is_not_found(http: httpx.AsyncClient) -> None:
    response = await http.post("/groups/nope/contents", json={"content_id": "c"}, headers=auth("a"))

    assert response.status_code == 404
    assert response.json()["message"] == "group not found"


async def test_a_retried_add_with_its_idempotency_key_answers_the_same_and_adds_once(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)

    key = {"Idempotency-Key": "k1"}

    first = await cast.call("POST", "/contents", "ana", {"content_id": "c2"}, **key)
    retry = await cast.call("POST", "/contents", "ana", {"content_id": "c2"}, **key)
    other = await cast.call("POST", "/contents", "ana", {"content_id": "c3"}, **key)

    assert first.status_code == 201, first.text
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert other.status_code == 409
    assert [c["content_id"] for c in (await cast.view())["contents"]] == ["c1", "c2"]


async def test_a_full_playlist_refuses_one_more_content_and_counts_it(
    database_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(database_url, tmp_path, max_group_contents=2))
    try:
        transport = httpx.ASGITransport(app=service.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            cast = await make_cast(http, contents=("c1", "c2"))
            before = await cast.view()

            refused = await cast.add("c3")
            after_refusal = await cast.view()
            metrics = (await http.get("/metrics")).text

            await expect(await cast.call("DELETE", "/contents/c1", "ana"), 204)
            after_a_removal = await cast.add("c3")
    finally:
        await service.database.dispose()

    assert refused.status_code == 409, refused.text
    assert "at most 2" in refused.json()["message"]
    assert "studygroups_group_playlist_full_total 1.0" in metrics
    assert after_refusal == before
    assert after_a_removal.status_code == 201


# --- DELETE /groups/:groupId/contents/:contentId ---------------------------------------------


@pytest.mark.parametrize("editor", ["ana", "mo"])
async def test_an_owner_or_mod_takes_a_content_off_and_the_others_keep_their_positions(
    http: httpx.AsyncClient, editor: str
) -> None:
    cast = await make_cast(http, contents=("c1", "c2", "c3"))

    removed = await cast.call("DELETE", "/contents/c2", editor)
    added = await cast.add("c4")

    assert (removed.status_code, removed.content) == (204, b"")
    assert added.json()["position"] == 4
    assert [(c["content_id"], c["position"]) for c in (await cast.view())["contents"]] == [
        ("c1", 1),
        ("c3", 3),
        ("c4", 4),
    ]


async def test_a_content_id_with_a_slash_is_taken_off_by_its_encoded_path(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http, contents=("unit/7",))

    response = await cast.call("DELETE", f"/contents/{quote('unit/7', safe='')}", "ana")

    assert response.status_code == 204, response.text
    assert (await cast.view())["contents"] == []


async def test_taking_off_a_content_not_on_the_playlist_is_not_found(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    missing = await cast.call("DELETE", "/contents/c9", "ana")
    unknown_group = await http.delete("/groups/nope/contents/c1", headers=auth("ana"))

    assert missing.status_code == 404, missing.text
    assert (unknown_group.status_code, unknown_group.json()["message"]) == (404, "group not found")
    assert await cast.view() == before


async def test_taking_off_a_content_twice_is_not_found_the_second_time(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)

    first = await cast.call("DELETE", "/contents/c1", "ana")
    second = await cast.call("DELETE", "/contents/c1", "ana")

    assert (first.status_code, second.status_code) == (204, 404)


async def test_a_retried_removal_with_its_idempotency_key_answers_204_again(
    http: httpx.AsyncClient,
) -> None:
    cast = await make_cast(http)
    key = {"Idempotency-Key": "off-1"}

    first = await cast.call("DELETE", "/contents/c1", "ana", **key)
    retry = await cast.call("DELETE", "/contents/c1", "ana", **key)

    assert (first.status_code, first.content) == (204, b"")
    assert (retry.status_code, retry.content) == (204, b"")
    assert (await cast.view())["contents"] == []


@pytest.mark.parametrize("user", NOT_ALLOWED)
async def test_only_an_active_owner_or_mod_takes_contents_off(
    http: httpx.AsyncClient, user: str
) -> None:
    cast = await make_cast(http)
    before = await cast.view()

    response = await cast.call("DELETE", "/contents/c1", user)

    assert response.status_code == 403, response.text
    assert await cast.view() == before
