"""The console between two rounds, in a real Chromium: once round 1 is DONE and round 2 not
started, the status line says what comes next (to the facilitator: write the question and
start it; to a member: wait), the last results stay above the phase panel for everyone, and
the chat marks where round 2's messages begin."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve, token
from tests.e2e.browser import PHONE, Watch, browser, new_page
from tests.support import Scenario, make_session

pytestmark = pytest.mark.browser
WAIT = 20_000  # ms; generous for a loaded machine, never a timing assertion


@pytest.fixture
async def live_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with serve(service) as server:
            yield server
    finally:
        await service.database.dispose()


async def open_as(context: BrowserContext, page: Page, url: str, user_id: str) -> None:
    await context.add_init_script(
        f"localStorage.setItem('studygroups.token', {json.dumps(token(user_id))})"
    )
    await page.goto(url)
    await expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT)


async def run_round_one_to_done(scenario: Scenario) -> None:
    session = f"/group-sessions/{scenario.session_id}"
    await scenario.call(
        "PATCH",
        f"{session}/rounds/1/prompt",
        scenario.facilitator,
        {"prompt_text": "2 + 2?", "options": ["3", "4"], "correct_option": "4"},
        expect=200,
    )
    chat = f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat"
    await scenario.call(
        "POST", chat, scenario.facilitator, {"round_index": 1, "message": "round one"}, expect=201
    )
    await scenario.advance(1, "VOTING")
    await scenario.advance(1, "DISCUSSING", force=True)
    await scenario.advance(1, "REVOTING")
    await scenario.advance(1, "EXPLAINING", force=True)
    await scenario.call(
        "POST",
        f"{session}/events",
        scenario.scribe,
        {
            "round_index": 1,
            "event_type": "GROUP_EXPLANATION_SUBMIT",
            "payload": {"explanation": "Two and two."},
        },
        expect=201,
    )
    await scenario.advance(1, "DONE")
    await scenario.call(
        "POST", chat, scenario.scribe, {"round_index": 2, "message": "round two"}, expect=201
    )


async def results_come_before_the_phase_panel(page: Page) -> bool:
    following: bool = await page.evaluate(
        """() => Boolean(document.querySelector('.results')
            .compareDocumentPosition(document.querySelector('.phase'))
            & Node.DOCUMENT_POSITION_FOLLOWING)"""
    )
    return following


async def test_between_rounds_the_page_says_what_comes_next_and_keeps_the_last_results_in_view(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        scenario = await make_session(http, ["ana", "bo"], rounds=2)
        await run_round_one_to_done(scenario)
    url = f"{live_server.url}/#/groups/{scenario.group_id}/sessions/{scenario.session_id}"
    watch = Watch()
    async with browser() as chromium_browser:
        ana_context, ana = await new_page(chromium_browser, watch)
        bo_context, bo = await new_page(chromium_browser, watch, PHONE)
        await open_as(ana_context, ana, url, scenario.facilitator)
        await open_as(bo_context, bo, url, scenario.scribe)

        await expect(ana.locator(".status-line")).to_contain_text(
            "Round 2 of 2 · Not started — write the question, then Move to: Vote"
        )
        await expect(bo.locator(".status-line")).to_contain_text(
            "Round 2 of 2 · Waiting for the next question"
        )
        for page in (ana, bo):
            await expect(page.locator(".results")).to_contain_text("Round 1 results", timeout=WAIT)
            assert await results_come_before_the_phase_panel(page)
            await expect(page.locator(".chat-log li")).to_have_text(
                [re.compile("round one$"), "Round 2", re.compile("round two$")]
            )

        # Once round 2 starts the results go back below, and the status line is the phase.
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            scenario.http = http
            await scenario.call(
                "PATCH",
                f"/group-sessions/{scenario.session_id}/rounds/2/prompt",
                scenario.facilitator,
                {"prompt_text": "3 + 3?", "options": ["6", "9"]},
                expect=200,
            )
            await scenario.advance(2, "VOTING")
        for page in (ana, bo):
            await expect(page.locator(".status-line")).to_contain_text(
                "Round 2 of 2 · Vote", timeout=WAIT
            )
            assert not await results_come_before_the_phase_panel(page)
        await ana_context.close()
        await bo_context.close()
    assert watch.errors == []
    assert watch.refused == []
