"""The reconnect code docs/realtime.md gives front-end developers, run as written: extracted from
the document, under chat at ~80 messages a second while the official socket.io-client loses its
connection again and again, it applies every durable event once, in seq order, from the `seq`
it read over REST — so the document cannot drift from code that works."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, token
from tests.e2e.test_interop_node import NODE_DIR, NodeClient, node_binary
from tests.support import Scenario, make_session

pytestmark = pytest.mark.node

DOC = Path(__file__).parents[2] / "docs" / "realtime.md"
MARKER = "<!-- snippet: reconnect -->"
HARNESS = NODE_DIR / "follow.mjs"
POSTS_PER_SECOND = 80
WAIT = 60.0


def reconnect_snippet(doc: Path = DOC) -> str:
    """The fenced block that directly follows the marker in the document."""
    text = doc.read_text()
    found = re.search(re.escape(MARKER) + r"\s*```(?:js|javascript)\n(.*?)\n```", text, re.S)
    assert found is not None, f"{doc} has no fenced js block right after {MARKER}"
    return found.group(1) + "\n"


@pytest.fixture(autouse=True)
def _node_installed() -> None:
    node_binary()


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    """The snippet as an ES module beside a node_modules that has the pinned client."""
    (tmp_path / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    path = tmp_path / "reconnect.mjs"
    path.write_text(reconnect_snippet())
    return path


@contextlib.asynccontextmanager
async def following(
    live: LiveServer, snippet: Path, scenario: Scenario, seq: int, transports: str, reconnects: int
) -> AsyncIterator[NodeClient]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SG_SNIPPET": str(snippet),
        "SG_URL": live.url,
        "SG_TOKEN": token("bo"),
        "SG_SESSION": scenario.session_id,
        "SG_SEQ": str(seq),
        "SG_TRANSPORTS": transports,
        "SG_RECONNECTS": str(reconnects),
        "SG_TIMEOUT_MS": str(int(WAIT * 4000)),
    }
    process = await asyncio.create_subprocess_exec(
        node_binary(),
        str(HARNESS),
        cwd=NODE_DIR,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    client = NodeClient(process)
    try:
        yield client
    finally:
        await client.close()


async def chat_steadily(scenario: Scenario, stop: asyncio.Event) -> None:
    """~80 chat posts a second over REST, from two members (each under the write limit)."""
    interval = 2 / POSTS_PER_SECOND
    number = 0

    async def poster(user: str) -> None:
        nonlocal number
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not stop.is_set():
            number += 1
            await scenario.chat(user, f"message {number}")
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    await asyncio.gather(poster("ana"), poster("cy"))


async def feed(scenario: Scenario) -> list[tuple[int, str]]:
    events: list[tuple[int, str]] = []
    after, more = 0, True
    while more:
        page = await scenario.call(
            "GET",
            f"/group-sessions/{scenario.session_id}/feed",
            "ana",
            expect=200,
            params={"after_seq": after, "limit": 1000},
        )
        events += [(e["seq"], e["event"]) for e in page.json()["events"]]
        after, more = events[-1][0] if events else after, page.json()["has_more"]
    return events


async def wait_until_done(client: NodeClient) -> None:
    """Until the harness lost its connection SG_RECONNECTS times and connected once more."""
    async with asyncio.timeout(WAIT * 2):
        while not any(line["type"] == "done" for line in client.lines):
            assert client.process.returncode is None, client.lines[-5:]
            await asyncio.sleep(0.05)


async def report_when_caught_up(client: NodeClient, head: int) -> dict[str, Any]:
    """The harness's report once it applied `head` (or after WAIT, whatever it holds then)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        report = await client.report()
        last = report["lastSeq"]
        if (isinstance(last, int) and last >= head) or (
            asyncio.get_running_loop().time() > deadline
        ):
            return report
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("transports", "reconnects"),
    [
        pytest.param("polling", 40, id="long-polling"),
        pytest.param("websocket", 60, id="websocket"),
        pytest.param("polling,websocket", 40, id="polling-then-upgrade"),
    ],
)
async def test_the_documented_reconnect_code_applies_every_event_once_in_order_under_a_race(
    transports: str,
    reconnects: int,
    snippet: Path,
    server: LiveServer,
    rest: httpx.AsyncClient,
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    await scenario.chat("ana", "before bo's screen loaded")
    detail = await scenario.call("GET", f"/group-sessions/{scenario.session_id}", "bo", expect=200)
    seq = detail.json()["seq"]  # the state bo's screen shows
    stop = asyncio.Event()
    chatting = asyncio.create_task(chat_steadily(scenario, stop))
    try:
        # Messages are posted between the REST read and the first join, and all along after.
        await asyncio.sleep(0.2)
        async with following(server, snippet, scenario, seq, transports, reconnects) as bo:
            await wait_until_done(bo)
            stop.set()
            await chatting
            events = await feed(scenario)
            report = await report_when_caught_up(bo, events[-1][0])
    finally:
        stop.set()
        await chatting

    applied = [(a["seq"], a["event"]) for a in report["applied"]]
    expected = [e for e in events if e[0] > seq]
    missing = sorted({s for s, _ in expected} - {s for s, _ in applied})
    assert len(expected) > 100, "too few events to race with"
    assert missing == [], f"the snippet lost {len(missing)} of {len(expected)} events"
    assert applied == expected
