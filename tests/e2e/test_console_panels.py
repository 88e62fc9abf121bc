"""The console's countdown follows the server's clock, not the browser's: the session detail is
the real server's answer with `server_time` an hour ahead and a running `timer` put in by the
browser's network layer (to API.md section 5's shapes), and the results likewise, so that the
page meets a skewed clock no real test server can give. The real clock, timer controls,
results and report run in tests/e2e/test_console.py."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Route, expect

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve, token
from tests.e2e.browser import Watch, browser, new_page
from tests.support import make_session

pytestmark = pytest.mark.browser
WAIT = 20_000


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
async def live_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with serve(service) as server:
            yield server
    finally:
        await service.database.dispose()


async def test_the_countdown_follows_the_servers_clock_and_results_show_when_served(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        scenario = await make_session(http, ["ana", "bo"])
        facilitator = scenario.facilitator
        await scenario.call(
            "PATCH",
            f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
            facilitator,
            {"prompt_text": "2 + 2?", "options": ["3", "4"]},
            expect=200,
        )
        await scenario.advance(1, "VOTING")
    # The server's clock is an hour ahead of the browser's: the countdown must not care.
    server_now = datetime.now(UTC) + timedelta(hours=1)

    async def with_clock(route: Route) -> None:
        if route.request.method != "GET":
            await route.continue_()
            return
        response = await route.fetch()
        detail = await response.json()
        detail["server_time"] = iso(server_now)
        for round_ in detail["rounds"]:
            round_["correct_option"] = "4"
            round_["timer"] = {
                "state": "RUNNING",
                "ends_at": iso(server_now + timedelta(seconds=90)),
                "remaining_sec": None,
            }
        await route.fulfill(response=response, body=json.dumps(detail))

    results = {
        "round_index": 1,
        "status": "VOTING",
        "options": ["3", "4"],
        "eligible": 2,
        "vote": {"counts": {"3": 1, "4": 1}, "total": 2},
        "revote": None,
        "switches": None,
        "correct_option": "4",
        "correct": None,
    }
    watch = Watch()
    async with browser() as chromium_browser:
        context, page = await new_page(chromium_browser, watch)
        await context.add_init_script(
            f"localStorage.setItem('studygroups.token', {json.dumps(token(facilitator))})"
        )
        await page.route(f"**/group-sessions/{scenario.session_id}", with_clock)
        await page.route("**/rounds/1/results", lambda route: route.fulfill(json=results))
        await page.goto(
            f"{live_server.url}/#/groups/{scenario.group_id}/sessions/{scenario.session_id}"
        )
        countdown = page.get_by_role("timer")
        # 90 s left by the server's clock (uncorrected, the browser would show 61:30).
        await expect(countdown).to_have_text(re.compile(r"^[01]:[0-5]\d$"), timeout=WAIT)
        await expect(page.get_by_role("group", name="Timer")).to_contain_text("Pause")
        await expect(page.locator(".results")).to_contain_text("4 ✓", timeout=WAIT)
        await expect(page.locator(".results tbody tr")).to_have_count(2)
    assert watch.errors == []
    assert watch.refused == []
