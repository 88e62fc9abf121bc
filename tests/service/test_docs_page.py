"""/docs is served whole by the service: its page names only the service's own files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from studygroups.app import build
from tests.conftest import make_settings

REFERENCE = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.fixture
async def client(sqlite_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    service = build(make_settings(sqlite_url, tmp_path))
    transport = httpx.ASGITransport(app=service.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await service.database.dispose()


async def test_the_docs_page_loads_its_script_style_icon_and_document_from_the_service(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = REFERENCE.findall(page.text)
    assert len(references) == 4, references  # style, icon, script, OpenAPI document
    for reference in references:
        assert reference.startswith("/"), f"{reference} is not served by the service"
        assert not reference.startswith("//"), f"{reference} is on another host"
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference


async def test_the_swagger_ui_licence_ships_with_its_files_and_redoc_is_off(
    client: httpx.AsyncClient,
) -> None:
    licence = await client.get("/docs/assets/LICENSE")
    redoc = await client.get("/redoc")

    assert licence.status_code == 200
    assert "Apache License" in licence.text
    assert redoc.status_code == 404
