"""The ASGI entry point for a uvicorn command line; `studygroups serve` runs the same parts.

    studygroups migrate
    uvicorn studygroups.asgi:app --factory \
        --ws studygroups.asgi:WebSocket --http studygroups.asgi:Http

`app` builds the service from the environment (as `studygroups serve` does, without applying
migrations). `WebSocket` is the protocol that serves Socket.IO WebSockets on the native path
(realtime/protocol.py), `Http` the HTTP protocol that times out slow request heads and caps
connections (api/connections.py); both find their app's parts in the lifespan state, so the
lifespan must stay on (uvicorn's default). Served without them, the app still works, on
python-engineio's WebSocket path and without those HTTP bounds, and says so: one WARNING at the
first Socket.IO WebSocket, and `studygroups_websockets_total{path="engineio"}` counts them.
"""

from __future__ import annotations

import logging
from typing import Any

from studygroups.lazy_imports import defer_client_libraries

defer_client_libraries()  # before python-socketio: its clients' libraries, never used here

from studygroups.api.connections import GuardedHttpProtocol, raise_open_file_limit  # noqa: E402
from studygroups.app import create_app  # noqa: E402
from studygroups.config import Settings  # noqa: E402
from studygroups.realtime.protocol import UpgradeProtocol  # noqa: E402

__all__ = ["Http", "WebSocket", "app"]

WebSocket = UpgradeProtocol
Http = GuardedHttpProtocol


def app() -> Any:
    """uvicorn's `--factory` callable: the app, configured from the environment."""
    settings = Settings.from_env()
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    raise_open_file_limit()  # before the app: the connection cap keeps a reserve
    return create_app(settings)
