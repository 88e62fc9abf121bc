"""A 300-member session with the facilitator's console open: the crowd (tests/e2e/
console_crowd.py, its own process) types, chats and votes through a 15 s window while the
facilitator pauses and resumes the clock and sends a message. The page keeps up: every vote
counted and every message shown once and in order. How responsive it stayed is measured in the
page and printed (long tasks, frame times, input to next paint, click to effect), never
asserted; clients/console/README.md keeps the figures.

It runs only with CONSOLE_LOAD=1: 300 sockets fed by one Python process need a core of their
own, and on a machine shared with other test runs the crowd starves (its sockets miss the
server's pings and are closed), which measures the machine rather than the console."""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve, token
from tests.e2e.browser import Watch, browser, new_page
from tests.e2e.console_crowd import member_ids
from tests.support import make_session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("CONSOLE_LOAD") != "1",
        reason="a measurement, not a check: CONSOLE_LOAD=1 runs it (clients/console/README.md)",
    ),
]
MEMBERS = 300
CHATTERS = 100  # a third of the class writes in the chat; everyone types and votes
WINDOW = 15.0  # seconds over which the crowd acts
FACILITATOR = "a-fay"  # sorted first, so dealt FACILITATOR
WAIT = 120_000  # ms; a crowd on a shared machine, never a timing assertion
ROOT = Path(__file__).resolve().parents[2]
SEQ = re.compile(r'"seq":(\d+)')

# Installed before the console's own script: what the page lived through.
MEASURE = """
window.__load = {longtasks: [], frames: [], inputs: [], effects: {}, states: []};
addEventListener("DOMContentLoaded", () => {
  const connection = document.getElementById("connection");
  new MutationObserver(() => window.__load.states.push(connection.textContent))
    .observe(connection, {childList: true, characterData: true, subtree: true});
});
new PerformanceObserver((list) => {
  if (!window.__load.sampling) return;  // the load window only, not the page's own start
  for (const e of list.getEntries()) window.__load.longtasks.push(e.duration);
}).observe({type: "longtask"});
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.name === "click") window.__load.inputs.push(e.duration);
}).observe({type: "event", durationThreshold: 16, buffered: true});
let last = 0;
const frame = (now) => {
  if (window.__load.sampling && last) window.__load.frames.push(now - last);
  last = now;
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);
"""
# A click's effect: from the click to the DOM showing what it did.
EFFECT = """([name, selector, text, gone]) => {
  const effects = window.__load.effects;
  document.addEventListener("click", () => { effects[name] = {clicked: performance.now()}; },
    {capture: true, once: true});
  const seen = () => {
    const node = [...document.querySelectorAll(selector)].at(-1);
    if (effects[name] && node && node.textContent.includes(text) !== gone) {
      effects[name].shown = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(seen);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
async def crowd_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    # The setup invites 300 members as one OWNER: the per-user write limit is lifted.
    settings = make_settings(
        sqlite_url, tmp_path, rest_writes_per_second=100_000.0, rest_write_burst=100_000
    )
    service = build(settings)
    try:
        async with serve(service) as live_server:
            yield live_server
    finally:
        await service.database.dispose()


async def click_and_time(
    page: Page, name: str, button: str, selector: str, text: str, *, gone: bool = False
) -> None:
    """Click `button`; the page notes when `text` shows in (or, `gone`, leaves) `selector`."""
    await page.evaluate(EFFECT, [name, selector, text, gone])
    await page.get_by_role("button", name=button, exact=True).click()
    shown = expect(page.locator(selector).last)
    if gone:
        await shown.not_to_contain_text(text, timeout=WAIT)
    else:
        await shown.to_contain_text(text, timeout=WAIT)


def received_seqs(into: list[int]) -> Callable[[str | bytes], None]:
    """Notes the seq of every durable event frame the browser's socket receives, and each
    Engine.IO ping as 0 (a socket still written to, or not at all)."""

    def frame(payload: str | bytes) -> None:
        if payload == "2":
            into.append(0)
        elif isinstance(payload, str) and (found := SEQ.search(payload)):
            into.append(int(found.group(1)))

    return frame


def pings_after_last_event(frames: list[int]) -> int:
    last = max((i for i, seq in enumerate(frames) if seq), default=-1)
    return sum(1 for seq in frames[last + 1 :] if seq == 0)


def gaps(seqs: list[int]) -> list[int]:
    """Seqs between the first and the last received that never arrived."""
    return sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs)) if seqs else []


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summary(load: dict[str, Any]) -> str:
    frames: list[float] = load["frames"]
    longtasks: list[float] = load["longtasks"]
    effects = {k: round(v["shown"] - v["clicked"]) for k, v in load["effects"].items()}
    return (
        f"frames {len(frames)}: median {statistics.median(frames):.1f} ms, "
        f"p95 {percentile(frames, 0.95):.1f} ms, max {max(frames):.0f} ms, "
        f"{sum(1 for f in frames if f > 50)} over 50 ms; "
        f"long tasks {len(longtasks)} (total {sum(longtasks):.0f} ms, "
        f"max {max(longtasks, default=0):.0f} ms); "
        f"click to next paint max {max(load['inputs'], default=0):.0f} ms; "
        f"click to effect {effects} ms"
    )


async def test_the_facilitators_console_keeps_up_with_a_300_member_session(
    crowd_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=crowd_server.url, timeout=60) as http:
        scenario = await make_session(http, [FACILITATOR, *member_ids(MEMBERS)])
        assert scenario.facilitator == FACILITATOR
        prompt = {"prompt_text": "Which is the odd one out?", "options": ["A", "B", "C", "D"]}
        path = f"/group-sessions/{scenario.session_id}/rounds/1/prompt"
        await scenario.call("PATCH", path, FACILITATOR, prompt, expect=200)
        await scenario.advance(1, "VOTING")
    crowd = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.console_crowd", crowd_server.url,
        scenario.group_id, scenario.session_id, str(MEMBERS), str(CHATTERS), str(WINDOW),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert crowd.stdin is not None and crowd.stdout is not None
    watch = Watch()
    try:
        assert (await crowd.stdout.readline()).decode().strip() == f"joined {MEMBERS}"
        async with browser() as chromium_browser:
            context, page = await new_page(chromium_browser, watch)
            await context.add_init_script(
                f"localStorage.setItem('studygroups.token', {json.dumps(token(FACILITATOR))})"
            )
            await context.add_init_script(MEASURE)
            # What reached the browser's sockets, to tell a server that did not send from a
            # page that did not show.
            received: list[int] = []
            page.on("websocket", lambda ws: ws.on("framereceived", received_seqs(received)))
            await page.goto(
                f"{crowd_server.url}/#/groups/{scenario.group_id}/sessions/{scenario.session_id}"
            )
            total = MEMBERS + 1
            await expect(page.locator("#lobby-h")).to_have_text(
                f"Who is here ({total} of {total})", timeout=WAIT
            )
            await page.evaluate("window.__load.sampling = true")

            crowd.stdin.write(b"go\n")
            await crowd.stdin.drain()
            await asyncio.sleep(WINDOW / 3)
            await click_and_time(page, "pause", "Pause", "[role=timer]", "(paused)")
            await click_and_time(page, "resume", "Resume", "[role=timer]", "(paused)", gone=True)
            await page.get_by_label("Message", exact=True).fill("Take your time, everyone")
            await click_and_time(page, "chat", "Send", ".chat-log .mine .text", "Take your time")
            done = (await crowd.stdout.readline()).decode().strip()
            assert done.startswith("done dropped=")

            # Every vote counted, every message once and in the server's order.
            await expect(page.locator("#progress")).to_contain_text(
                f"Votes: {MEMBERS} of {total}", timeout=WAIT
            )
            async with httpx.AsyncClient(base_url=crowd_server.url) as http:
                history = await http.get(
                    f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat",
                    headers={"Authorization": f"Bearer {token(FACILITATOR)}"},
                )
            messages = [m["message"] for m in history.json()["messages"]]
            assert len(messages) == CHATTERS + 1
            try:
                await expect(page.locator(".chat-log .text")).to_have_text(messages, timeout=WAIT)
            finally:
                states = await page.evaluate("window.__load.states")
                seqs = [seq for seq in received if seq]
                print(
                    f"\ndurable frames received: {len(seqs)}, up to seq "
                    f"{seqs[-1] if seqs else None}, gaps {gaps(seqs)}, pings after the last: "
                    f"{pings_after_last_event(received)}; connection: {states}"
                )
            await page.evaluate("window.__load.sampling = false")
            load = await page.evaluate("window.__load")
            await context.close()
    finally:
        if crowd.returncode is None:
            crowd.stdin.write(b"stop\n")
            crowd.stdin.close()
            await asyncio.wait_for(crowd.wait(), timeout=60)
    dropped = done.removeprefix("done dropped=")
    print(f"\n{MEMBERS}-member session ({dropped} crowd sockets dropped), facilitator's console:")
    print(summary(load))
    assert watch.errors == []
    assert watch.refused == []
