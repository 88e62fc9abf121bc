"""POST /dev/token (API.md section 8): served with DEV_LOGIN or a generated secret, else 404;
and the console's own files at / and /console/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studygroups.app import Service, build
from tests.conftest import make_settings


@pytest.fixture
async def app_for(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    built: list[Service] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        service = build(make_settings(sqlite_url, tmp_path, **overrides))
        built.append(service)
        transport = httpx.ASGITransport(app=service.asgi)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    yield make
    for service in built:
        await service.database.dispose()


def minted(metrics_text: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith("studygroups_dev_tokens_minted_total "):
            return float(line.split()[1])
    raise AssertionError("no dev token counter")


async def test_dev_token_mints_a_token_the_api_accepts_when_dev_login_is_on(app_for: Any) -> None:
    async with app_for(dev_login=True) as http:
        response = await http.post(
            "/dev/token", json={"sub": " ana ", "name": "<b>Ana</b>", "email": "ana@example.org"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["sub"], body["name"], body["token_type"]) == ("ana", "<b>Ana</b>", "Bearer")
        assert body["expires_in"] == 8 * 3600
        groups = await http.post(
            "/groups", json={"name": "Bio"}, headers={"Authorization": f"Bearer {body['token']}"}
        )
        assert groups.status_code == 201
        assert groups.json()["members"][0]["user_name"] == "<b>Ana</b>"
        assert minted((await http.get("/metrics")).text) == 1
        assert (await http.get("/console/config.json")).json() == {"dev_login": True}


async def test_dev_token_is_not_found_where_the_secret_is_configured_and_dev_login_is_off(
    app_for: Any,
) -> None:
    async with app_for() as http:
        response = await http.post(
            "/dev/token", json={"sub": "ana", "name": "Ana", "email": "ana@example.org"}
        )
        assert response.status_code == 404
        assert response.json() == {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        assert (await http.get("/console/config.json")).json() == {"dev_login": False}
        assert "/dev/token" not in (await http.get("/openapi.json")).json()["paths"]


async def test_dev_token_refuses_blank_or_missing_claims_and_mints_nothing(app_for: Any) -> None:
    async with app_for(dev_login=True) as http:
        for body in (
            {"sub": "  ", "name": "Ana", "email": "a@example.org"},
            {"sub": "ana", "name": "Ana"},
            {"sub": "ana", "name": "x" * 256, "email": "a@example.org"},
            {"sub": 7, "name": "Ana", "email": "a@example.org"},
        ):
            response = await http.post("/dev/token", json=body)
            assert response.status_code == 400, body
            assert response.json()["statusCode"] == 400
        assert minted((await http.get("/metrics")).text) == 0


async def test_the_console_is_served_at_the_root_with_its_assets_from_this_server(
    app_for: Any,
) -> None:
    async with app_for() as http:
        page = await http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert '<script type="module" src="/console/console.js">' in page.text
        script = await http.get("/console/console.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await http.get("/console/console.css")).status_code == 200
        for name in ("index.html", "..%2Fconsole.js", "nothing.js", "..%2F..%2Fapp.py"):
            assert (await http.get(f"/console/{name}")).status_code == 404
