"""The REST app built once sockets stop arriving (api/deferred.py), and the service's lifespan
answered in front of it (api/lifespan.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from studygroups.api import deferred
from studygroups.api.deferred import DeferredHttp
from studygroups.api.lifespan import with_lifespan

Message = MutableMapping[str, Any]


@dataclass
class Answer:
    status: int
    body: Any


@dataclass(frozen=True)
class Built:
    asgi: Any


def built_app(calls: list[str]) -> Built:
    """A REST app that answers every request with its path, 200."""

    async def app(scope: Message, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(scope["path"]).encode()})

    return Built(asgi=app)


async def request(app: Any, path: str, method: str = "GET") -> Answer:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(sent[0]["status"], json.loads(body))


@pytest.fixture(autouse=True)
def quick_looks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deferred, "FIRST_LOOK_SECONDS", 0.01)
    monkeypatch.setattr(deferred, "CHECK_EVERY_SECONDS", 0.005)


async def test_a_request_before_the_build_waits_for_the_rest_app_and_is_answered_by_it() -> None:
    calls: list[str] = []
    rest = DeferredHttp(lambda: built_app(calls), settling=lambda: False)

    waiting = asyncio.create_task(request(rest, "/groups"))
    await asyncio.sleep(0.02)
    assert not waiting.done()  # held, not refused
    await rest.build_when_calm()

    assert await waiting == Answer(200, "/groups")
    assert calls == ["/groups"]


async def test_healthz_is_answered_before_the_build_without_building_it() -> None:
    built: list[str] = []
    rest = DeferredHttp(lambda: built_app(built), settling=lambda: True)

    answer = await request(rest, "/healthz")

    assert answer == Answer(200, {"status": "ok"})
    assert rest.built is None
    # Another method, or another path, waits for the REST app.
    other = asyncio.create_task(request(rest, "/healthz", method="POST"))
    await asyncio.sleep(0.02)
    assert not other.done()
    other.cancel()


async def test_the_build_waits_while_sockets_are_arriving_and_happens_once_they_stop() -> None:
    arriving = True
    rest = DeferredHttp(lambda: built_app([]), settling=lambda: arriving, latest=30)

    building = asyncio.create_task(rest.build_when_calm())
    await asyncio.sleep(0.05)
    assert rest.built is None
    arriving = False
    await asyncio.wait_for(building, 5)

    assert rest.built is not None


async def test_sockets_arriving_without_end_delay_the_build_only_until_the_latest_time() -> None:
    rest = DeferredHttp(lambda: built_app([]), settling=lambda: True, latest=0.05)

    await asyncio.wait_for(rest.build_when_calm(), 5)

    assert rest.built is not None


async def test_the_build_runs_off_the_event_loop_thread() -> None:
    threads: list[threading.Thread] = []

    def factory() -> Built:
        threads.append(threading.current_thread())
        return built_app([])

    rest = DeferredHttp(factory, settling=lambda: False)
    await rest.build_when_calm()

    assert threads and threads[0] is not threading.current_thread()


async def test_a_rest_app_that_cannot_be_built_answers_every_request_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Built:
        raise RuntimeError("no routes")

    rest: DeferredHttp[Built] = DeferredHttp(broken, settling=lambda: False)
    waiting = asyncio.create_task(request(rest, "/groups"))
    await rest.build_when_calm()

    answer = await waiting
    assert answer.status == 500
    assert answer.body["statusCode"] == 500
    assert (await request(rest, "/groups")).status == 500
    assert "the REST API could not be built" in caplog.text


def test_build_now_builds_once_and_later_calls_answer_the_same_app() -> None:
    made: list[Built] = []

    def factory() -> Built:
        made.append(built_app([]))
        return made[-1]

    rest = DeferredHttp(factory, settling=lambda: True)

    assert rest.build_now() is rest.build_now() is made[0]
    assert len(made) == 1


def test_the_service_serving_sockets_first_has_not_imported_fastapi_or_pydantic_yet(
    tmp_path: Path,
) -> None:
    """What a restarted `studygroups serve` loads before it serves: no FastAPI, no pydantic (a
    third of the start's CPU), until the REST app is built."""
    script = f"""
import sys
from pathlib import Path
from studygroups.app import build
from tests.conftest import make_settings
here = Path({str(tmp_path)!r})
service = build(make_settings(f"sqlite+aiosqlite:///{{here}}/db.sqlite", here), rest_when_calm=True)
before = sorted(m for m in ("fastapi", "pydantic") if m in sys.modules)
service.rest.build_now()
after = sorted(m for m in ("fastapi", "pydantic") if m in sys.modules)
print(before, after, service.api.openapi_schema is not None)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    # ... and the REST app comes with its OpenAPI document made (off the event loop, where
    # the first /openapi.json or /docs would otherwise make it).
    assert out.stdout.strip() == "[] ['fastapi', 'pydantic'] True", out.stderr


async def lifespan_of(app: Any) -> list[str]:
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Message:
        return next(events)

    async def send(message: Message) -> None:
        sent.append(message["type"])

    with suppress(RuntimeError):  # a failed start raises, after saying so
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


async def test_the_lifespan_runs_around_the_served_app_and_says_when_it_started_and_ended() -> None:
    steps: list[str] = []

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        steps.append("started")
        yield
        steps.append("ended")

    async def app(scope: Message, receive: Any, send: Any) -> None:
        raise AssertionError("the lifespan is not the app's")

    sent = await lifespan_of(with_lifespan(app, lifespan))

    assert steps == ["started", "ended"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_a_lifespan_that_fails_to_start_tells_the_server_so() -> None:
    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield  # pragma: no cover

    async def app(scope: Message, receive: Any, send: Any) -> None:
        raise AssertionError("unused")

    assert await lifespan_of(with_lifespan(app, lifespan)) == ["lifespan.startup.failed"]
