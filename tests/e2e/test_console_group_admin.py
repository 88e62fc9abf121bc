"""The console's group page in a real Chromium: every member sees the playlist in order; an
OWNER or MOD adds and removes contents, an OWNER changes roles, and the API's refusal to demote
the last OWNER is shown where the role select is. Content ids are shown as text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve, token
from tests.e2e.browser import PHONE, Watch, browser, new_page, screenshots_dir
from tests.support import make_group

pytestmark = pytest.mark.browser
WAIT = 20_000  # ms; generous for a loaded machine, never a timing assertion
OWNER, MEMBER = "olga", "max"
NAMES = {OWNER: "Olga", MEMBER: "Max"}  # as tests.conftest.token names them
# Content ids may hold markup: the page must show them as text.
MARKUP_CONTENT = "unit-2 <b>fractions</b>"


@pytest.fixture
async def live_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with serve(service) as server:
            yield server
    finally:
        await service.database.dispose()


async def open_group(context: BrowserContext, page: Page, url: str, user_id: str) -> None:
    await context.add_init_script(
        f"localStorage.setItem('studygroups.token', {json.dumps(token(user_id))})"
    )
    await page.goto(url)
    await expect(page.get_by_role("heading", name="Playlist")).to_be_visible(timeout=WAIT)


async def add_content(page: Page, content_id: str) -> None:
    await page.get_by_label("Content id").fill(content_id)
    await page.get_by_role("button", name="Add to the playlist").click()


async def test_owners_and_mods_manage_the_playlist_and_roles_and_members_only_see_the_playlist(
    live_server: LiveServer, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        scenario = await make_group(http, [OWNER, MEMBER])
    group_url = f"{live_server.url}/#/groups/{scenario.group_id}"
    watch = Watch()
    async with browser() as chromium_browser:
        owner_context, owner = await new_page(chromium_browser, watch)
        member_context, member = await new_page(chromium_browser, watch, PHONE)
        await open_group(owner_context, owner, group_url, OWNER)
        playlist = owner.locator(".playlist li")
        # An empty playlist is said in a sentence, not as its item 1.
        await expect(owner.locator(".playlist-empty")).to_have_text("The playlist is empty.")
        await expect(playlist).to_have_count(0)

        # The OWNER adds two contents (in order) and removes the first.
        await add_content(owner, "lesson-1")
        await expect(playlist).to_have_text(["lesson-1 Remove"], timeout=WAIT)
        await add_content(owner, MARKUP_CONTENT)
        await expect(owner.locator(".playlist .content")).to_have_text(
            ["lesson-1", MARKUP_CONTENT], timeout=WAIT
        )
        await owner.get_by_role("button", name="Remove lesson-1 from the playlist").click()
        await expect(owner.locator(".playlist .content")).to_have_text(
            [MARKUP_CONTENT], timeout=WAIT
        )
        assert await owner.locator(".playlist b").count() == 0

        # A MEMBER sees the playlist, and no control over it or over roles.
        await open_group(member_context, member, group_url, MEMBER)
        await expect(member.locator(".playlist .content")).to_have_text([MARKUP_CONTENT])
        await expect(member.get_by_label("Content id")).to_have_count(0)
        await expect(member.locator(".playlist button")).to_have_count(0)
        await expect(member.locator(".members select")).to_have_count(0)

        # The OWNER makes the MEMBER a MOD; the MOD can then add a content.
        await owner.get_by_label(f"Role of {NAMES[MEMBER]}").select_option("MOD")
        await expect(owner.get_by_label(f"Role of {NAMES[MEMBER]}")).to_have_value(
            "MOD", timeout=WAIT
        )
        await member.reload()
        await add_content(member, "lesson-3")
        await expect(member.locator(".playlist .content")).to_have_text(
            [MARKUP_CONTENT, "lesson-3"], timeout=WAIT
        )
        # A MOD manages the playlist but not the roles.
        await expect(member.locator(".members select")).to_have_count(0)

        # Demoting the last OWNER is refused: the API's message, and the select keeps OWNER.
        own_role = owner.get_by_label(f"Role of {NAMES[OWNER]}")
        await own_role.select_option("MEMBER")
        await expect(owner.get_by_role("alert")).to_have_text(
            "the group's last OWNER cannot be demoted; make another member OWNER first",
            timeout=WAIT,
        )
        await expect(own_role).to_have_value("OWNER")
        await owner.reload()
        await expect(owner.locator(".playlist .content")).to_have_text(
            [MARKUP_CONTENT, "lesson-3"], timeout=WAIT
        )
        await expect(owner.get_by_label(f"Role of {NAMES[OWNER]}")).to_have_value("OWNER")
        await own_role.select_option("MEMBER")
        await expect(owner.get_by_role("alert")).to_contain_text("last OWNER", timeout=WAIT)

        folder = screenshots_dir(tmp_path)
        await owner.screenshot(path=folder / "9-group-admin-desktop.png", full_page=True)
        await owner.set_viewport_size(PHONE)
        await owner.screenshot(path=folder / "9-group-admin-phone.png", full_page=True)
        await owner_context.close()
        await member_context.close()
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        detail = await http.get(
            f"/groups/{scenario.group_id}",
            headers={"Authorization": f"Bearer {token(OWNER)}"},
        )
    roles = {m["user_id"]: m["role"] for m in detail.json()["members"]}
    assert roles == {OWNER: "OWNER", MEMBER: "MOD"}
    assert [c["content_id"] for c in detail.json()["contents"]] == [MARKUP_CONTENT, "lesson-3"]
    assert watch.errors == []
    assert watch.refused == []
    assert set(watch.statuses) == {409}  # the last OWNER's demotion, and nothing else
