"""The console at / in a real Chromium: a facilitator and three members, each in their own
browser context, run a timed round to the report through the page alone (per-phase timers set
in the editor; pause, resume, add and set time by the facilitator and by the TIMEKEEPER; the
results chart, the session report and its CSV download); a member who drops during the
discussion catches up with every message once and in order; a removed member's page says so;
the facilitator's controls come first by keyboard and every control has a label. Nothing is
fetched from any other host and nothing is reported on any console."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve
from tests.e2e.browser import DESKTOP, PHONE, Watch, browser, new_page, screenshots_dir

pytestmark = pytest.mark.browser

# Sorted by user id the session roles are dealt FACILITATOR, SCRIBE, TIMEKEEPER, CLARIFIER.
FACILITATOR, SCRIBE, TIMEKEEPER, CLARIFIER = "a-fay", "b-sam", "c-tim", "d-cleo"
# Names come from tokens and may hold markup: the page must show it as text.
NAMES = {FACILITATOR: "Fay", SCRIBE: "Sam <b>bold</b>", TIMEKEEPER: "Tim", CLARIFIER: "Cleo"}
WAIT = 20_000  # ms; generous for a loaded machine, never a timing assertion
# The round's seconds per phase, set in the question editor (the layer's defaults are 60/180).
TIMERS = {"Vote (s)": 45, "Discussion (s)": 120, "Revote (s)": 30, "Explanation (s)": 90}


@pytest.fixture
async def console_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    service = build(make_settings(sqlite_url, tmp_path, dev_login=True))
    try:
        async with serve(service) as live_server:
            yield live_server
    finally:
        await service.database.dispose()


async def sign_in(page: Page, server: LiveServer, user_id: str) -> int:
    """Sign in by name; returns the ms from navigation to an interactive page."""
    await page.goto(server.url + "/")
    await page.get_by_label("Your name").fill(NAMES[user_id])
    await page.get_by_label("User id").fill(user_id)
    ready = int(await page.locator("body").get_attribute("data-ready", timeout=WAIT) or -1)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who")).to_contain_text(NAMES[user_id], timeout=WAIT)
    return ready


async def open_session_of(page: Page, group: str) -> None:
    await page.get_by_role("link", name=group).click()
    await page.locator(".sessions a").first.click()
    await expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT)


async def vote(page: Page, option: str, button: str = "Vote") -> None:
    await page.get_by_label(option, exact=True).check()
    await page.get_by_role("button", name=button, exact=True).click()
    await expect(page.locator(".phase .confirm")).to_contain_text(option, timeout=WAIT)


async def say(page: Page, text: str) -> None:
    await page.get_by_label("Message", exact=True).fill(text)
    await page.get_by_role("button", name="Send").click()


async def timer_action(page: Page, button: str, seconds: int | None = None) -> None:
    timer = page.get_by_role("group", name="Timer")
    if seconds is not None:
        await timer.get_by_label("Seconds").fill(str(seconds))
    await timer.get_by_role("button", name=button).click()


async def every_countdown(pages: dict[str, Page], pattern: str) -> None:
    for page in pages.values():
        await expect(page.get_by_role("timer")).to_have_text(re.compile(pattern), timeout=WAIT)


async def unlabelled_controls(page: Page) -> list[str]:
    """Form controls a screen reader would announce without a name."""
    result: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map((el) => el.outerHTML)"""
    )
    return result


async def tab_stops(page: Page, count: int) -> list[str]:
    """The names of the first `count` controls reached with Tab from the top of the page's
    content, each checked to show where the focus is."""
    await page.locator("#main").focus()
    names: list[str] = []
    for _ in range(count):
        await page.keyboard.press("Tab")
        focused: dict[str, str] = await page.evaluate(
            """() => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                return {name: (el.getAttribute('aria-label') || el.labels?.[0]?.textContent
                    || el.textContent || el.value || '').trim().slice(0, 40),
                    outline: style.outlineStyle};
            }"""
        )
        assert focused["outline"] != "none", f"no visible focus on {focused['name']}"
        names.append(focused["name"])
    return names


async def csv_report(path: Path) -> list[dict[str, str]]:
    """The downloaded report, row by row (its header is API.md section 5's)."""
    text = path.read_text(encoding="utf-8")
    header = text.splitlines()[0]
    assert header == (
        "session_id,round_index,user_id,user_name,session_role,vote,revote,vote_correct,"
        "revote_correct,chat_messages"
    )
    return list(csv.DictReader(io.StringIO(text)))


async def shoot(pages: dict[str, Page], folder: Path, phase: str) -> None:
    for size, page in pages.items():
        # From the top, with no focus ring left over (the header is sticky).
        await page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")
        await page.screenshot(path=folder / f"{phase}-{size}.png", full_page=True)


async def test_a_facilitator_and_three_members_run_a_timed_round_to_the_report_in_their_browsers(
    console_server: LiveServer, tmp_path: Path
) -> None:
    server = console_server
    watch = Watch()
    shots = screenshots_dir(tmp_path)
    async with browser() as chromium_browser:
        fay_ctx, fay = await new_page(chromium_browser, watch)
        pages = {FACILITATOR: fay}
        for user_id in (SCRIBE, TIMEKEEPER, CLARIFIER):
            viewport = PHONE if user_id == TIMEKEEPER else None
            _, page = await (
                new_page(chromium_browser, watch, viewport)
                if viewport
                else new_page(chromium_browser, watch)
            )
            pages[user_id] = page
        sam, tim, cleo = pages[SCRIBE], pages[TIMEKEEPER], pages[CLARIFIER]

        # Sign-in by name, a group, invitations by user id, accepted by each member.
        await fay.goto(server.url + "/")
        await shoot({"desktop": fay}, shots, "0-sign-in")
        first_load = await sign_in(fay, server, FACILITATOR)
        # Others invite you by your user id: the home page shows it, with a Copy button.
        await expect(fay.locator(".user-id")).to_have_text(FACILITATOR)
        copy = fay.locator(".my-id").get_by_role("button", name="Copy")
        await expect(copy).to_be_visible()
        # Toasts never pile up: four in a row leave three.
        for _ in range(4):
            await copy.click()
        await expect(fay.locator(".toast")).to_have_count(3)
        await fay.get_by_label("Name").fill("Physics <i>101</i>")
        await fay.get_by_role("button", name="Create the group").click()
        await expect(fay.get_by_role("heading", name="Physics <i>101</i>")).to_be_visible()
        for user_id in (SCRIBE, TIMEKEEPER, CLARIFIER):
            await fay.get_by_label("User id").fill(user_id)
            await fay.get_by_role("button", name="Invite").click()
            await expect(fay.locator(".members")).to_contain_text(user_id, timeout=WAIT)
        for user_id in (SCRIBE, TIMEKEEPER, CLARIFIER):
            page = pages[user_id]
            await sign_in(page, server, user_id)
            await page.get_by_role(
                "button", name="Accept the invitation to Physics <i>101</i>"
            ).click()
            await expect(page.get_by_role("heading", name="Physics <i>101</i>")).to_be_visible()

        # The group page follows the accepted invitations by itself (no reload).
        for user_id in (SCRIBE, TIMEKEEPER, CLARIFIER):
            await expect(fay.locator(".members li", has_text=user_id)).to_contain_text(
                "ACTIVE", timeout=WAIT
            )
        # A session: everyone in the lobby with their role.
        await fay.get_by_role("button", name="Create the session").click()
        await expect(fay.locator("#connection")).to_have_text("Live", timeout=WAIT)
        for page in (sam, tim, cleo):
            await page.goto(server.url + "/#/")
            await open_session_of(page, "Physics <i>101</i>")
        for page in pages.values():
            await expect(page.locator(".people .here")).to_have_count(4, timeout=WAIT)
        await expect(fay.locator(".people")).to_contain_text("Sam <b>bold</b>SCRIBE")
        await shoot({"desktop": fay, "phone": tim}, shots, "1-lobby")

        # The facilitator starts, writes the question, its correct option and a time for each
        # phase, and opens the vote: the server's clock runs it on every page.
        await fay.get_by_role("button", name="Start the session").click()
        await fay.get_by_label("Question").fill("Which falls faster in a vacuum?")
        await fay.get_by_label("Options, one a line").fill("The feather\nThe hammer\nBoth the same")
        await fay.get_by_label("Correct option").select_option("Both the same")
        for phase, seconds in TIMERS.items():
            await fay.get_by_label(phase, exact=True).fill(str(seconds))
        assert await unlabelled_controls(fay) == []
        await fay.get_by_role("button", name="Save the question").click()
        await expect(fay.get_by_role("status").filter(has_text="Question saved.")).to_be_visible(
            timeout=WAIT
        )
        await expect(tim.locator(".prompt")).to_have_text(
            "Which falls faster in a vacuum?", timeout=WAIT
        )
        await fay.get_by_role("button", name="Move to: Vote").click()
        for page in pages.values():
            await expect(page.locator(".phase h3")).to_have_text("Vote", timeout=WAIT)
        # "Question saved." was about the draft: gone once the round has started.
        await expect(fay.get_by_text("Question saved.")).to_have_count(0)
        await every_countdown(pages, r"^0:[0-4]\d$")  # 45 s, not the layer's 60
        await vote(sam, "Both the same")
        await vote(tim, "The hammer")
        await expect(fay.locator("#progress")).to_contain_text("Votes: 2 of 4", timeout=WAIT)
        # The facilitator's chart follows the votes as they come (members see it once DONE).
        chart = fay.locator(".results tbody tr")
        await expect(chart).to_have_text(
            ["The feather00", "The hammer10", "Both the same ✓10"], timeout=WAIT
        )
        await expect(sam.locator(".results")).to_be_hidden()

        # By keyboard the facilitator reaches the clock's and the round's controls before the
        # vote every member has; the focus always shows; every control has a label.
        stops = await tab_stops(fay, 12)
        assert stops.index("Pause") < stops.index("Move to: Discussion") < stops.index("Vote")
        assert await unlabelled_controls(fay) == []
        await shoot({"desktop": fay, "phone": tim}, shots, "2-vote")
        # On a phone the facilitator finds the clock and the round's controls first.
        await fay.set_viewport_size(PHONE)
        await shoot({"facilitator-phone": fay}, shots, "2-vote")
        await fay.set_viewport_size(DESKTOP)

        # Seconds out of 1..3600 are refused in the page, no request sent.
        await timer_action(fay, "Add time", 0)
        await expect(fay.get_by_role("group", name="Timer").get_by_role("alert")).to_have_text(
            "Seconds: a whole number from 1 to 3600."
        )
        # The facilitator pauses, resumes and adds a minute: every page follows.
        await timer_action(fay, "Pause")
        await every_countdown(pages, r"^0:[0-4]\d \(paused\)$")
        await timer_action(fay, "Resume")
        await every_countdown(pages, r"^0:[0-4]\d$")
        await timer_action(fay, "Add time", 60)
        await every_countdown(pages, r"^1:[0-4]\d$")
        # Members who keep no time have no timer controls.
        await expect(sam.get_by_role("group", name="Timer")).to_have_count(0)
        await expect(cleo.get_by_role("group", name="Timer")).to_have_count(0)

        # The gate names who has not voted; the facilitator forces past it.
        await fay.get_by_role("button", name="Move to: Discussion").click()
        gate = fay.locator(".gate")
        await expect(gate).to_contain_text("Waiting for 2 of 4", timeout=WAIT)
        await expect(gate).to_contain_text("Cleo")
        await expect(gate).to_contain_text("Fay")
        await gate.get_by_role("button", name="Force").click()
        for page in pages.values():
            await expect(page.locator(".phase h3")).to_have_text("Discussion", timeout=WAIT)
        await every_countdown(pages, r"^[12]:[0-5]\d$")  # 120 s
        # The TIMEKEEPER (on a phone) keeps the time too.
        await timer_action(tim, "Pause")
        await every_countdown(pages, r"\(paused\)$")
        await shoot({"phone": tim}, shots, "3-timekeeper")
        await timer_action(tim, "Resume")
        await every_countdown(pages, r"^[12]:[0-5]\d$")

        # Discussion: Cleo drops while the others chat; typing shows; she comes back to all
        # of it, once and in order.
        await sam.get_by_label("Message", exact=True).press_sequentially("I think")
        await expect(tim.locator(".typing")).to_have_text(
            "Sam <b>bold</b> is typing…", timeout=WAIT
        )
        await say(sam, "Both: no air, no drag")
        await cleo.context.set_offline(True)
        await expect(cleo.locator("#connection")).to_have_text("Reconnecting…", timeout=WAIT)
        sent = [
            "Both: no air, no drag",
            "The hammer is heavier though",
            "<script>alert(1)</script>mass cancels",
            "ok, both",
        ]
        await say(tim, sent[1])
        await say(fay, sent[2])
        await say(sam, sent[3])
        expected = [sent[0], sent[1], "alert(1)mass cancels", sent[3]]
        await expect(tim.locator(".chat-log .text")).to_have_text(expected, timeout=WAIT)
        # Offline, what Cleo sends is not lost: it stays in the box and the page says why.
        await say(cleo, "sorry, I dropped")
        await expect(cleo.locator(".toast")).to_have_text(
            "Not sent: you are offline — it stays in the box.", timeout=WAIT
        )
        await expect(cleo.get_by_label("Message", exact=True)).to_have_value("sorry, I dropped")
        await shoot({"desktop": cleo}, shots, "3-reconnecting")
        # On a phone the header keeps its title on one line while it says "Reconnecting…".
        await cleo.set_viewport_size(PHONE)
        await shoot({"phone": cleo}, shots, "3-reconnecting")
        title_lines = await cleo.evaluate(
            "(() => { const t = document.querySelector('.top h1'); "
            "return Math.round(t.getBoundingClientRect().height / "
            "parseFloat(getComputedStyle(t).lineHeight)); })()"
        )
        assert title_lines == 1
        await cleo.set_viewport_size(DESKTOP)
        await cleo.context.set_offline(False)
        await expect(cleo.locator("#connection")).to_have_text("Live", timeout=WAIT)
        await expect(cleo.locator(".chat-log .text")).to_have_text(expected, timeout=WAIT)
        # Back online, Send delivers it once and empties the box.
        await cleo.get_by_role("button", name="Send").click()
        expected.append("sorry, I dropped")
        for page in pages.values():
            await expect(page.locator(".chat-log .text")).to_have_text(expected, timeout=WAIT)
        await expect(cleo.get_by_label("Message", exact=True)).to_have_value("")
        await expect(sam.locator(".receipts")).to_contain_text("Seen by", timeout=WAIT)
        await shoot({"desktop": fay, "phone": tim}, shots, "3-discussion")
        # The TIMEKEEPER cuts the discussion short: time is up on every page (the phase stays
        # open until the facilitator moves on).
        await timer_action(tim, "Set time", 1)
        await every_countdown(pages, r"^Time is up$")

        # Revote, explanation by the scribe (the others get the shared card), done.
        await fay.get_by_role("button", name="Move to: Revote").click()
        for page in pages.values():
            await expect(page.locator(".phase h3")).to_have_text("Revote", timeout=WAIT)
        await every_countdown(pages, r"^0:[0-3]\d$")  # 30 s
        for page in pages.values():
            await vote(page, "Both the same", button="Revote")
        # The facilitator sees the results live, the correct option marked.
        await expect(fay.locator(".results tr.correct")).to_contain_text(
            "Both the same ✓", timeout=WAIT
        )
        await shoot({"desktop": fay, "phone": tim}, shots, "4-revote")
        await fay.get_by_role("button", name="Move to: Explanation").click()
        await expect(sam.get_by_label("The group's explanation")).to_be_visible(timeout=WAIT)
        await expect(tim.locator(".phase")).to_contain_text("The scribe is writing")
        await every_countdown(pages, r"^[01]:[0-5]\d$")  # 90 s
        assert await unlabelled_controls(sam) == []
        await sam.get_by_label("The group's explanation").fill(
            "Without air every mass falls alike."
        )
        await sam.get_by_label("The group's answer").select_option("Both the same")
        await sam.get_by_role("button", name="Save the explanation").click()
        await expect(tim.locator(".toast")).to_contain_text("shared card", timeout=WAIT)
        await expect(tim.locator(".shared-card")).to_contain_text(
            "every mass falls alike", timeout=WAIT
        )
        # Once the card is there nobody is told the scribe is still writing; the scribe is
        # not told their own card has arrived.
        await expect(tim.locator(".phase")).not_to_contain_text("The scribe is writing")
        await expect(sam.locator(".toast", has_text="shared card")).to_have_count(0)
        await shoot({"desktop": sam, "phone": tim}, shots, "5-explanation")
        await fay.get_by_role("button", name="Move to: Done").click()
        for page in pages.values():
            await expect(page.locator(".phase h3")).to_have_text("Done", timeout=WAIT)
            await expect(page.get_by_role("timer")).to_be_hidden()
        # Once the round is done every member sees its results: 1 of 2 votes right, then 4 of 4.
        await expect(tim.locator(".results tr.correct")).to_contain_text(
            "Both the same ✓", timeout=WAIT
        )
        await expect(tim.locator(".results")).to_contain_text("Correct: 50% → 100%")
        await shoot({"desktop": fay, "phone": tim}, shots, "6-done")

        # A removed member's page says so.
        removal = await fay.context.new_page()
        removal.on("console", watch.console)
        await removal.goto(server.url + "/#/")
        await removal.get_by_role("link", name="Physics <i>101</i>").click()
        # Removing asks first, in place; Cancel keeps her.
        await removal.get_by_role("button", name="Remove Cleo").click()
        await removal.get_by_role("button", name="Cancel").click()
        await expect(removal.locator(".members")).to_contain_text("Cleo")
        await removal.get_by_role("button", name="Remove Cleo").click()
        await removal.get_by_role("button", name="Yes, remove Cleo").click()
        await expect(removal.locator(".members")).not_to_contain_text("Cleo", timeout=WAIT)
        # Her page finds out at her next act, or at its check every 15 s if that comes first
        # (then the chat is already gone and there is nothing to type into).
        try:
            await cleo.get_by_label("Message", exact=True).fill("still here?", timeout=3_000)
            await cleo.get_by_role("button", name="Send").click(timeout=3_000)
        except PlaywrightTimeout:
            await expect(cleo.locator(".removed")).to_contain_text("you were removed")
        await expect(cleo.locator(".removed")).to_contain_text("you were removed", timeout=WAIT)
        await expect(cleo.locator("#connection")).to_have_text("Removed")
        await shoot({"desktop": cleo}, shots, "7-removed")
        # "Seen by" no longer names a member removed from the group.
        await expect(sam.locator(".receipts")).to_contain_text("Seen by")
        await expect(sam.locator(".receipts")).not_to_contain_text("Cleo", timeout=WAIT)
        # "← Groups" leads a removed member to their groups, not to a refusal.
        await cleo.get_by_role("button", name="← Groups").click()
        await expect(cleo.get_by_role("heading", name="Your groups")).to_be_visible(timeout=WAIT)
        await expect(cleo.get_by_text("You are not a member")).to_have_count(0)

        # The facilitator finishes: the session report, and its CSV downloaded for real.
        await fay.get_by_role("button", name="Finish the session").click()
        await fay.get_by_role("button", name="Yes, finish the session").click()
        await expect(fay.locator("#session-title")).to_have_text("Session · FINISHED", timeout=WAIT)
        # A finished session's chat is read-only, and says so.
        await expect(fay.get_by_label("Message", exact=True)).to_be_disabled()
        await expect(fay.locator(".chat")).to_contain_text("the chat is read-only")
        await fay.reload()  # a cold load of the session page, measured
        report = fay.locator(".report")
        await expect(report.locator("tbody tr")).to_have_count(4, timeout=WAIT)
        await expect(report).to_contain_text("Sam <b>bold</b>")
        await expect(report.locator("tr", has_text="Tim")).to_contain_text(
            "1: The hammer → Both the same"
        )
        session_load = await fay.evaluate(
            "Math.round(performance.getEntriesByName('session-rendered')[0].startTime)"
        )
        await shoot({"desktop": fay}, shots, "8-report")
        async with fay.expect_download() as download_info:
            await report.get_by_role("button", name="Download CSV").click()
        download = await download_info.value
        csv_path = await download.path()
        csv_rows = await csv_report(csv_path)
        await fay_ctx.close()

    print(f"\nconsole first load to an interactive page: sign-in {first_load} ms")
    print(f"console cold load of a session page to its rendered phase: {session_load} ms")
    assert download.suggested_filename.endswith(".csv")
    assert [(r["user_name"], r["vote"], r["revote"], r["vote_correct"]) for r in csv_rows] == [
        ("Fay", "", "Both the same", ""),
        ("Sam <b>bold</b>", "Both the same", "Both the same", "true"),
        ("Tim", "The hammer", "Both the same", "false"),
        ("Cleo", "", "Both the same", ""),
    ]
    assert watch.errors == []
    assert watch.refused == []
    assert set(watch.statuses) <= {403, 409}  # the gate, and the removed member's message
