"""/docs works with no internet: a real Chromium that may reach nothing but this machine
renders every operation of the API, and asks nothing of any other host."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Request, Route, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.conftest import LiveServer
from tests.e2e.browser import chromium

pytestmark = pytest.mark.browser

# A school's name for the server, resolved by Chromium itself to 127.0.0.1. Swagger UI treats a
# page served from "localhost" or "127.0.0.1" differently (it skips its online validator badge),
# so the page is loaded as a school would load it.
SCHOOL_HOST = "studygroups.school.test"
THIS_MACHINE = {SCHOOL_HOST, "127.0.0.1"}


def operations_of(server: LiveServer) -> set[str]:
    """Every operation of the OpenAPI document, as Swagger UI labels it: "METHOD /path"."""
    paths = server.service.api.openapi()["paths"]
    return {f"{method.upper()} {path}" for path, item in paths.items() for method in item}


async def test_the_docs_page_renders_every_operation_with_nothing_fetched_off_the_machine(
    server: LiveServer, tmp_path: Path
) -> None:
    requested: list[str] = []
    refused: list[str] = []

    async def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname in THIS_MACHINE:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    def record(request: Request) -> None:
        requested.append(request.url)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium(),
            args=[f"--host-resolver-rules=MAP {SCHOOL_HOST} 127.0.0.1"],
        )
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            await context.route("**/*", only_this_machine)
            context.on("request", record)
            page = await context.new_page()
            await page.goto(f"http://{SCHOOL_HOST}:{server.port}/docs")
            try:
                await page.locator(".opblock").first.wait_for(timeout=20_000)
            except PlaywrightTimeout:
                raise AssertionError(f"no operation rendered; refused: {refused}") from None
            await page.wait_for_load_state("networkidle")
            title = await page.locator(".info .title").inner_text()
            rendered = [
                " ".join(label.split())
                for label in await page.locator(".opblock-summary").evaluate_all(
                    "blocks => blocks.map(b => b.querySelector('.opblock-summary-method')"
                    ".textContent + ' ' + b.querySelector('.opblock-summary-path')"
                    ".getAttribute('data-path'))"
                )
            ]
            await page.screenshot(path=tmp_path / "docs.png", full_page=True)
        finally:
            await browser.close()

    assert title.startswith("studygroups")
    assert set(rendered) == operations_of(server)
    assert len(rendered) == len(set(rendered))
    assert refused == []
    assert {urlsplit(url).hostname for url in requested} == {SCHOOL_HOST}
