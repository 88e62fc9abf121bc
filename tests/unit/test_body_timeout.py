"""BodyTimeout (api/middleware.py): a request whose body is late gets 408; one whose body
arrives in time, or that is cancelled for another reason, is left alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from studygroups.api.middleware import BodyTimeout
from studygroups.metrics import Metrics

Message = dict[str, Any]


async def echo_body(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, answers 200 with it."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def middleware(seconds: float) -> BodyTimeout:
    return BodyTimeout(echo_body, seconds, Metrics())


async def call(app: BodyTimeout, parts: list[tuple[float, bytes]]) -> list[Message]:
    """Send the body as `parts` of (delay before, bytes); the last part ends the body."""
    queue = list(parts)
    sent: list[Message] = []

    async def receive() -> Message:
        if not queue:
            await asyncio.Event().wait()  # the client says nothing more
        delay, chunk = queue.pop(0)
        await asyncio.sleep(delay)
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app({"type": "http", "method": "POST", "path": "/x"}, receive, send)
    return sent


async def test_a_body_that_arrives_in_time_reaches_the_app_whole() -> None:
    sent = await call(middleware(0.4), [(0.0, b"a"), (0.1, b"b"), (0.1, b"c")])

    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"abc"


async def test_a_body_still_missing_after_the_deadline_is_answered_408_soon_after() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    sent = await call(middleware(0.2), [(0.0, b"a"), (5.0, b"late")])

    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["statusCode"] == 408
    assert 0.2 <= loop.time() - started < 0.5  # the deadline plus at most one sweep


async def test_a_request_cancelled_while_its_body_is_late_stays_cancelled() -> None:
    app = middleware(0.2)
    request = asyncio.create_task(call(app, [(0.0, b"a"), (5.0, b"late")]))
    await asyncio.sleep(0.15)
    request.cancel()  # e.g. the server shutting down, before and across the deadline
    await asyncio.sleep(0.3)

    with pytest.raises(asyncio.CancelledError):
        await request


async def test_a_request_cancelled_in_the_same_instant_as_its_deadline_stays_cancelled() -> None:
    app = middleware(60.0)
    request = asyncio.create_task(call(app, [(0.0, b"a"), (5.0, b"late")]))
    await asyncio.sleep(0.05)
    [waiting] = app._waiting
    app._waiting[waiting] = 0.0  # overdue now: the sweep and another cancel in one loop turn
    app._sweep_overdue(asyncio.get_running_loop())
    request.cancel()

    with pytest.raises(asyncio.CancelledError):
        await request
