"""Interop with the official npm socket.io-client (pinned 4.8.x in tests/e2e/node): the front end's
own client connects, joins, hears a round in seq order, and recovers what it missed.

Each test runs tests/e2e/node/client.mjs with node against the live server and reads the JSON
lines it prints. Without node or `npm ci` in tests/e2e/node these tests skip (fail when CI is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, token
from tests.e2e.clients import WAIT, Peers
from tests.support import Scenario, make_session

pytestmark = pytest.mark.node

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "client.mjs"


def node_binary() -> str:
    """The node executable, when node and the pinned client are installed."""
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed"
    elif not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        reason = "tests/e2e/node/node_modules is missing: run `npm ci` in tests/e2e/node"
    else:
        return node
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _node_installed() -> None:
    """Skip (or fail in CI) before any server starts when node cannot run the client."""
    node_binary()


class NodeClient:
    """One node process running client.mjs: JSON commands in, JSON lines out."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self.stderr = b""
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(json.loads(raw))
            self._arrived.set()
        self._arrived.set()

    async def send(self, cmd: str, **fields: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        await self.process.stdin.drain()

    async def wait_for(
        self, kind: str, where: Callable[[dict[str, Any]], bool] = lambda _: True, after: int = 0
    ) -> dict[str, Any]:
        """The first line of type `kind` (from line index `after` on) that satisfies `where`."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    for line in self.lines[after:]:
                        if line["type"] == kind and where(line):
                            return line
                    if self._reader.done():
                        break
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            pass
        raise AssertionError(f"node never printed {kind}; it printed {self.lines} {self.stderr!r}")

    async def applied_up_to(self, seq: int) -> None:
        await self.wait_for("applied", lambda line: line["seq"] >= seq and not line["duplicate"])

    async def report(self) -> dict[str, Any]:
        mark = len(self.lines)
        await self.send("report")
        return await self.wait_for("report", after=mark)

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self.send("exit")
            try:
                await asyncio.wait_for(self.process.wait(), WAIT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self._reader
        assert self.process.stderr is not None
        self.stderr = await self.process.stderr.read()


@contextlib.asynccontextmanager
async def node_client(
    live: LiveServer,
    *,
    user: str | None,
    session_id: str | None = None,
    via: str = "auth",
    transports: str = "websocket",
    jwt: str | None = None,
    parser: str = "json",
) -> AsyncIterator[NodeClient]:
    node = node_binary()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SG_URL": live.url,
        "SG_VIA": via,
        "SG_TRANSPORTS": transports,
        "SG_TIMEOUT_MS": str(int(WAIT * 2000)),
        "SG_PARSER": parser,
    }
    if jwt is not None or user is not None:
        env["SG_TOKEN"] = jwt if jwt is not None else token(str(user))
    if session_id is not None:
        env["SG_SESSION"] = session_id
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
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


async def _feed(scenario: Scenario) -> list[dict[str, Any]]:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}/feed", scenario.owner, expect=200
    )
    events: list[dict[str, Any]] = response.json()["events"]
    return events


@pytest.mark.parametrize(
    ("via", "transports"),
    [
        pytest.param("auth", "websocket", id="auth-object-over-websocket-only"),
        pytest.param("query", "polling", id="query-token-over-polling-only"),
        pytest.param("auth", "polling,websocket", id="auth-object-polling-then-upgrade"),
    ],
)
async def test_the_official_client_joins_and_hears_a_whole_round_in_seq_order(
    via: str, transports: str, server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    async with node_client(
        server, user="bo", session_id=scenario.session_id, via=via, transports=transports
    ) as bo:
        joined = await bo.wait_for("joined")
        await scenario.run_round(1)
        await scenario.chat("cy", "well done")
        feed = await _feed(scenario)
        await bo.applied_up_to(feed[-1]["seq"])
        report = await bo.report()

    assert joined["ack"]["success"] is True
    assert joined["ack"]["sessionId"] == scenario.session_id
    assert "missed" not in joined["ack"]
    if transports == "polling":
        assert joined["transport"] == "polling"
        assert report["transport"] == "polling"
    if transports == "websocket":
        assert joined["transport"] == "websocket"
    heard = [(a["seq"], a["event"], a["data"]) for a in report["applied"]]
    assert heard == [(e["seq"], e["event"], e["data"]) for e in feed if e["seq"] > 1]
    assert all(a["source"] == "live" and not a["duplicate"] for a in report["applied"])


@pytest.mark.parametrize(
    ("jwt", "message"),
    [
        pytest.param(None, "No token provided", id="no-token"),
        pytest.param("not-a-jwt", "Invalid or expired token", id="garbage-token"),
    ],
)
@pytest.mark.parametrize("via", ["auth", "query"])
async def test_the_official_client_gets_a_connect_error_naming_the_token(
    jwt: str | None, message: str, via: str, server: LiveServer
) -> None:
    async with node_client(server, user=None, jwt=jwt, via=via) as stranger:
        error = await stranger.wait_for("connect_error")
        report = await stranger.report()

    assert error["message"] == message
    assert "token" in error["message"]
    assert report["connected"] is False
    assert not [line for line in stranger.lines if line["type"] == "connected"]


async def test_the_official_client_recovers_exactly_what_it_missed_by_rejoining_with_last_seq(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    async with node_client(server, user="bo", session_id=scenario.session_id) as bo:
        await bo.wait_for("joined")
        await scenario.chat("ana", "before")
        await bo.applied_up_to(2)
        mark = len(bo.lines)
        await bo.send("disconnect")
        await bo.wait_for("disconnected", after=mark)
        await scenario.chat("ana", "while away 1")
        await scenario.advance(1, "VOTING")
        await scenario.chat("ana", "while away 2")
        mark = len(bo.lines)
        await bo.send("connect")
        rejoined = await bo.wait_for("joined", after=mark)
        await scenario.chat("ana", "after")
        await bo.applied_up_to(6)
        report = await bo.report()

    assert rejoined["request"] == {"sessionId": scenario.session_id, "lastSeq": 2}
    assert [item["seq"] for item in rejoined["ack"]["missed"]] == [3, 4, 5]
    assert [(a["seq"], a["source"]) for a in report["applied"]] == [
        (2, "live"),
        (3, "missed"),
        (4, "missed"),
        (5, "missed"),
        (6, "live"),
    ]
    assert not any(a["duplicate"] for a in report["applied"])


async def test_after_a_dropped_transport_the_official_client_reconnects_and_loses_nothing(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    async with node_client(server, user="bo", session_id=scenario.session_id) as bo:
        await bo.wait_for("joined")
        await scenario.chat("ana", "before the drop")
        await bo.applied_up_to(2)
        mark = len(bo.lines)
        await bo.send("drop")
        await asyncio.gather(*(scenario.chat("ana", f"during {n}") for n in range(5)))
        rejoined = await bo.wait_for("joined", after=mark)
        await scenario.chat("ana", "after the drop")
        await bo.applied_up_to(8)
        report = await bo.report()

    assert rejoined["request"]["lastSeq"] >= 2
    assert rejoined["ack"]["success"] is True
    assert [a["seq"] for a in report["applied"]] == list(range(2, 9))
    assert not any(a["duplicate"] for a in report["applied"])


async def test_the_official_client_types_and_a_python_peer_sees_it(
    server: LiveServer, rest: httpx.AsyncClient, peers: Peers
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    ana = await peers.joined("ana", scenario.session_id)
    async with node_client(server, user="bo", session_id=scenario.session_id) as bo:
        await bo.wait_for("joined")
        mark = len(bo.lines)
        typing = {"sessionId": scenario.session_id, "isTyping": True}
        await bo.send("emit", event="typing", data=typing)
        ack = await bo.wait_for("ack", after=mark)
        mark = len(bo.lines)
        await bo.send("emit", event="joinSession", data={"sessionId": 42})
        refused = await bo.wait_for("ack", after=mark)
        [seen] = await ana.wait_for("chat.typing")
        report = await bo.report()

    assert ack["ack"] == {"success": True}
    assert seen["userId"] == "bo"
    assert seen["isTyping"] is True
    assert refused["ack"]["success"] is False
    assert refused["ack"]["error"]["code"] == "BAD_REQUEST"
    assert report["connected"] is True
    assert [e["event"] for e in report["ephemeral"]] == []  # its own typing is not echoed
