"""JSON answers written straight to ASGI `send`, and the error body every layer shares.

Free of FastAPI on purpose: the layers in front of the REST app (body limits, the deferred
REST app's stand-in, realtime/) answer with these before FastAPI is even imported
(api/deferred.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import Send

HEALTHY: dict[str, str] = {"status": "ok"}  # GET /healthz (api/routes/ops.py)


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message, **extra}


async def send_json(
    send: Send, status: int, content: Any, *, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = orjson.dumps(content)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
