"""Debian's chromium driven by Playwright for the console's browser tests: contexts that may
reach nothing but this machine and that collect every console error and page error."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    ViewportSize,
    async_playwright,
)

THIS_MACHINE = {"127.0.0.1", "localhost"}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# Chromium reports every 4xx answer to fetch on the console; a test names the ones it provokes
# (a gate's 409, a removed member's 403). Anything else on the console is an error.
STATUS_REPORT = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")
# Requests a page made while its context was offline (a test takes a member offline).
OFFLINE_REPORT = "Failed to load resource: net::ERR_INTERNET_DISCONNECTED"


def chromium() -> str:
    """Debian's chromium (Playwright never downloads a browser here); CI must have it."""
    path = shutil.which("chromium")
    if path is not None:
        return path
    reason = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: .ci/run installs it")
    pytest.skip(reason)


@dataclass
class Watch:
    """What every page of a test did that a user would not want: console errors, page errors,
    requests to other hosts."""

    errors: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    offline: int = 0
    refused: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        reported = STATUS_REPORT.search(message.text)
        if reported:
            self.statuses.append(int(reported.group(1)))
        elif message.text == OFFLINE_REPORT:
            self.offline += 1
        else:
            self.errors.append(message.text)

    async def only_this_machine(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname in THIS_MACHINE:
            await route.continue_()
        else:
            self.refused.append(route.request.url)
            await route.abort("internetdisconnected")


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium())
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(
    chromium_browser: Browser, watch: Watch, viewport: ViewportSize = DESKTOP
) -> tuple[BrowserContext, Page]:
    """A separate browser context (its own storage: one person) with one page."""
    context = await chromium_browser.new_context(
        viewport=viewport, is_mobile=viewport == PHONE, has_touch=viewport == PHONE
    )
    await context.route("**/*", watch.only_this_machine)
    page = await context.new_page()
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
    return context, page


def screenshots_dir(tmp_path: Path) -> Path:
    """docs/console when CONSOLE_SCREENSHOTS=1 (to refresh the README's pictures), else tmp."""
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        target = Path(__file__).resolve().parents[2] / "docs" / "console"
    else:
        target = tmp_path / "console"
    target.mkdir(parents=True, exist_ok=True)
    return target
