"""The server's shutdown closes its connections and runs the app's shutdown without uvicorn's
fixed pauses (0.1 s, then checks 0.1 s apart), during which a restart's port is closed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn

from studygroups.api.shutdown import PromptServer


async def test_a_shutdown_closes_open_connections_and_the_app_without_fixed_pauses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lifespan: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                lifespan.append(kind)
                await send({"type": f"{message['type']}.complete"})
                if kind == "shutdown":
                    return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = PromptServer(config)
    pauses: list[float] = []
    sleep = asyncio.sleep

    async def recorded(delay: float, *args: Any) -> Any:
        if server.should_exit:
            pauses.append(delay)
        return await sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")  # then kept alive, idle
    answer = await reader.readuntil(b"ok")

    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    closed = await asyncio.wait_for(reader.read(), 10)  # the server closed the idle connection
    writer.close()

    assert answer.startswith(b"HTTP/1.1 200")
    assert closed == b""
    assert lifespan == ["startup", "shutdown"]
    assert pauses and all(pause < 0.1 for pause in pauses), pauses


async def test_a_request_still_open_after_the_graceful_timeout_is_cancelled_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shut: list[str] = []
    waiting = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"].endswith("shutdown"):
                    shut.append("shutdown")
                    return
        waiting.set()
        await asyncio.sleep(3600)  # a long-polling GET waiting for its next packet

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
        log_config=None,  # records reach pytest's handler
    )
    server = PromptServer(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /socket.io/ HTTP/1.1\r\nHost: t\r\n\r\n")
    await asyncio.wait_for(waiting.wait(), 10)

    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    writer.close()

    assert shut == ["shutdown"]
    assert any(
        r.levelname == "WARNING" and "still open after 1 s, cancelled" in r.getMessage()
        for r in caplog.records
    ), caplog.text
