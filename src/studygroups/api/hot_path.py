"""The chat POST without FastAPI's routing and dependency solving: the hottest write.

FastAPI spends about a third of a chat POST's in-process CPU before and after our code runs:
matching the route among all the others, solving the dependencies, reading and validating the
body. `POST /groups/{group_id}/sessions/{session_id}/chat` with a JSON body that `PostChat`
accepts is served here by the very code FastAPI would run for it, called directly: the
`writer` dependency, `PostChat`'s validation, the route's own function, and the app's exception
handlers for what they raise. Everything else — another route or method, a query string, a
body that is not JSON or that `PostChat` refuses — goes on to FastAPI with its body intact,
which answers exactly as it always did (its 400s carry the validation details).

It is the innermost of the app's middleware (app.py adds it before CORS), so CORS headers, the
500 of an unexpected error and the outer body and time limits are the same for both paths;
`scope["route"]` is the route's, so the latency metric labels it as before.
"""

from __future__ import annotations

import inspect
import json
import re

import orjson
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studygroups.api.deps import writer
from studygroups.api.routes import chat
from studygroups.api.schemas import PostChat

# Starlette's `{name}` path parameters match one non-empty segment.
_CHAT = re.compile(r"/groups/([^/]+)/sessions/([^/]+)/chat")


def _is_json(content_type: bytes) -> bool:
    """`application/json`, parameters allowed: what FastAPI reads as JSON for certain."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json"


def _chat_route() -> APIRoute:
    for route in chat.router.routes:
        if isinstance(route, APIRoute) and route.endpoint is chat.post_message:
            return route
    raise LookupError("the chat POST route is gone")  # pragma: no cover


class HotChatPost:
    """ASGI middleware: serves well-formed chat POSTs itself, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route = _chat_route()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        path = _CHAT.fullmatch(scope["path"])
        if path is None:
            await self.app(scope, receive, send)
            return
        authorization: str | None = None
        idempotency_key: str | None = None
        json_body = False
        for name, value in scope["headers"]:
            # The first of repeated headers, as FastAPI's Header() takes it.
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"idempotency-key" and idempotency_key is None:
                idempotency_key = value.decode("latin-1")
            elif name == b"content-type" and not json_body:
                json_body = _is_json(value)
        if not json_body:
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        message = _parse(body) if body is not None else None
        if message is None:
            await self.app(scope, replay, send)
            return
        group_id, session_id = path.group(1), path.group(2)
        scope["path_params"] = {"group_id": group_id, "session_id": session_id}
        scope["route"] = self.route
        scope["endpoint"] = self.route.endpoint
        request = Request(scope, replay)
        response: Response
        try:
            run = await writer(
                request, idempotency_key=idempotency_key, authorization=authorization
            )
            response = await chat.post_message(group_id, session_id, message, run)
        except Exception as error:  # noqa: BLE001 -- the app's handlers decide, as in FastAPI
            response = await _handled(scope["app"], request, error)
        await response(scope, replay, send)


def _parse(body: bytes) -> PostChat | None:
    """The body as FastAPI would validate it (`json.loads`, then the model); None if refused."""
    if not body:
        return None
    try:
        try:
            data = orjson.loads(body)  # what it takes, json.loads reads the same
        except orjson.JSONDecodeError:
            data = json.loads(body)  # the rest: json.loads decides, as FastAPI's does
        return PostChat.model_validate(data)
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole body (None if it did not arrive whole), and a `receive` that hands out again
    exactly what was read — messages, then the disconnect or error that ended the reading — and
    then goes on with `receive`."""
    read: list[Message] = []
    failed: Exception | None = None
    complete = False
    while True:
        try:
            message = await receive()
        except Exception as error:  # noqa: BLE001 -- body limits refuse from inside `receive`
            failed = error
            break
        read.append(message)
        if message["type"] != "http.request":
            break  # a disconnect
        if not message.get("more_body", False):
            complete = True
            break

    async def replay() -> Message:
        if read:
            return read.pop(0)
        if failed is not None:
            raise failed
        return await receive()

    if not complete:
        return None, replay
    return b"".join(m.get("body", b"") for m in read), replay


async def _handled(app: FastAPI, request: Request, error: Exception) -> Response:
    """The answer of the app's exception handler for `error`, picked as Starlette's
    ExceptionMiddleware picks it (an HTTP error's status first, then the closest class);
    without one the error goes on to the server error middleware, as from FastAPI."""
    handlers = app.exception_handlers
    handler = None
    if isinstance(error, HTTPException):
        handler = handlers.get(error.status_code)
    for kind in type(error).__mro__:
        if handler is not None:
            break
        if kind is not Exception:
            handler = handlers.get(kind)
    if handler is None:
        raise error
    answer = handler(request, error)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, Response)
    return answer
