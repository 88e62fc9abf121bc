"""What docs/realtime.md tells a front-end developer, held against the server: the chat message's
REST and socket shapes map as its table says, and a refused origin gives the connect_error its
table lists (a transport error, not a token error) until FRONTEND_URL names the origin."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve, token
from tests.e2e.clients import Peers
from tests.e2e.test_interop_node import NODE_DIR, SCRIPT, NodeClient, node_binary
from tests.support import make_session

DOC = Path(__file__).parents[2] / "docs" / "realtime.md"
DEV_SERVER = "http://localhost:5173"


def doc_table(marker: str) -> list[list[str]]:
    """The rows (cells, stripped) of the markdown table right after `<!-- table: marker -->`."""
    text = DOC.read_text()
    start = text.find(f"<!-- table: {marker} -->")
    assert start >= 0, f"{DOC} has no table marked {marker}"
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[2:]  # past the header and its rule


def code(cell: str) -> str | None:
    """The `name` in a cell, or None for "—"."""
    found = re.match(r"`([^`]+)`", cell)
    return found.group(1) if found else None


async def test_a_posted_message_and_its_chat_event_map_field_for_field_as_the_table_says(
    server: LiveServer, rest: httpx.AsyncClient, peers: Peers
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    bo = await peers.joined("bo", scenario.session_id)
    posted = (await scenario.chat("ana", "  <b>Gravity</b> wins  ")).json()
    [event] = await bo.wait_for("chat.message")
    listed = (
        await scenario.call(
            "GET", f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat", "bo"
        )
    ).json()["messages"]

    rows = doc_table("chat-message")
    mapped = {code(rest_cell): code(socket_cell) for rest_cell, socket_cell, _ in rows}
    assert set(mapped) == set(posted), "the table names every field of the REST answer"
    for rest_field, socket_field in mapped.items():
        assert rest_field is not None
        if socket_field is None:
            assert rest_field in posted
            continue
        assert event[socket_field] == posted[rest_field], (rest_field, socket_field)
    assert listed == [posted]
    assert posted["user_role"] == "FACILITATOR"


@pytest.fixture
async def dev_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server whose FRONTEND_URL also lists a dev server's origin, as the guide says to do."""
    origins = ("http://localhost:3000", DEV_SERVER)
    service = build(make_settings(sqlite_url, tmp_path, frontend_urls=origins))
    try:
        async with serve(service) as live_server:
            yield live_server
    finally:
        await service.database.dispose()


async def _connect_from(live: LiveServer, origin: str, transports: str) -> NodeClient:
    process = await asyncio.create_subprocess_exec(
        node_binary(),
        str(SCRIPT),
        cwd=NODE_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "SG_URL": live.url,
            "SG_TOKEN": token("ana"),
            "SG_TRANSPORTS": transports,
            "SG_ORIGIN": origin,
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return NodeClient(process)


@pytest.mark.node
@pytest.mark.parametrize(
    ("transports", "message"),
    [("polling", "xhr poll error"), ("websocket", "websocket error")],
)
async def test_a_page_on_an_origin_not_in_frontend_url_gets_the_transport_error_the_guide_lists(
    transports: str, message: str, server: LiveServer, dev_server: LiveServer
) -> None:
    refused = await _connect_from(server, DEV_SERVER, transports)
    try:
        error = await refused.wait_for("connect_error")
    finally:
        await refused.close()
    allowed = await _connect_from(dev_server, DEV_SERVER, transports)
    try:
        connected = await allowed.wait_for("connected")
    finally:
        await allowed.close()

    assert error["message"] == message
    assert error["errorType"] == "TransportError"
    assert "token" not in error["message"]
    listed = {code(row[0]): code(row[1]) for row in doc_table("connect-error")}
    assert listed[message] == "TransportError"
    assert connected["transport"] == transports
