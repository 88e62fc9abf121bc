"""REST answers browsers only from the origins in FRONTEND_URL: others get no CORS grant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from studygroups.app import build
from tests.conftest import auth, make_settings

LISTED = ("http://localhost:3000", "https://school.example")
UNLISTED = "https://elsewhere.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest.fixture
async def client(sqlite_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    service = build(make_settings(sqlite_url, tmp_path, frontend_urls=LISTED))
    transport = httpx.ASGITransport(app=service.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await service.database.dispose()


async def test_a_preflight_from_an_origin_not_in_frontend_url_is_refused_without_a_grant(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/groups", headers={"Origin": UNLISTED, **PREFLIGHT})

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin", LISTED)
async def test_a_preflight_from_each_listed_origin_is_granted_with_credentials(
    client: httpx.AsyncClient, origin: str
) -> None:
    response = await client.options("/groups", headers={"Origin": origin, **PREFLIGHT})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_a_response_to_an_unlisted_origin_carries_no_grant_so_its_page_cannot_read_it(
    client: httpx.AsyncClient,
) -> None:
    refused = await client.get("/groups", headers={**auth("ana"), "Origin": UNLISTED})
    granted = await client.get("/groups", headers={**auth("ana"), "Origin": LISTED[1]})

    assert "access-control-allow-origin" not in refused.headers
    assert granted.headers["access-control-allow-origin"] == LISTED[1]
