"""POST /dev/token over TCP on a real server: 404 with a configured secret; with DEV_LOGIN its
token opens the API (the browser test signs in through it too)."""

from __future__ import annotations

from pathlib import Path

import httpx

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve

BODY = {"sub": "ana", "name": "Ana", "email": "ana@example.org"}


async def test_a_server_with_a_configured_secret_answers_dev_token_with_404(
    rest: httpx.AsyncClient,
) -> None:
    response = await rest.post("/dev/token", json=BODY)
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404


async def test_a_server_with_dev_login_mints_a_token_that_reads_the_api(
    sqlite_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(sqlite_url, tmp_path, dev_login=True))
    try:
        async with serve(service) as server, httpx.AsyncClient(base_url=server.url) as http:
            assert isinstance(server, LiveServer)
            token = (await http.post("/dev/token", json=BODY)).json()["token"]
            mine = await http.get("/groups", headers={"Authorization": f"Bearer {token}"})
            assert mine.status_code == 200
            assert mine.json() == []
    finally:
        await service.database.dispose()
