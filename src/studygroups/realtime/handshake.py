"""Which WebSocket upgrades the native path serves, and the environ a native session has.

`protocol.py` asks these on every upgrade request: a new Engine.IO 4 session asking for the
WebSocket transport becomes a `NativeSocket` (engine.py), a long-polling session that may
upgrade becomes an `UpgradingSocket` (upgrade.py); anything else goes to python-engineio,
which also answers the errors (a refused origin, a bad version, an unknown sid).
"""

from __future__ import annotations

from typing import Any

from studygroups.realtime import websocket as ws
from studygroups.realtime.engine import NativeEngine, NativeSocket


def accepts(engine: NativeEngine, request: ws.UpgradeRequest, environ: dict[str, Any]) -> bool:
    """A new Engine.IO 4 session asking for the WebSocket transport from an allowed origin."""
    return _allowed(engine, request, environ) and "sid" not in request.query


def upgradable(
    engine: NativeEngine, request: ws.UpgradeRequest, environ: dict[str, Any]
) -> Any | None:
    """The long-polling socket this request upgrades to WebSocket, if it may (upgrade.py)."""
    eio = engine.eio
    sid = request.query.get("sid")
    if not sid or not eio.allow_upgrades or not _allowed(engine, request, environ):
        return None
    socket = eio.sockets.get(sid[0])
    if (
        socket is None
        or isinstance(socket, NativeSocket)
        or not socket.connected
        or socket.upgraded
        or socket.upgrading
        or socket.closing
        or socket.closed
    ):
        return None
    return socket


def _allowed(engine: NativeEngine, request: ws.UpgradeRequest, environ: dict[str, Any]) -> bool:
    if request.path not in engine.paths or not request.is_plain_websocket_upgrade():
        return False
    eio = engine.eio
    query = request.query
    if (
        query.get("EIO") != ["4"]
        or query.get("transport") != ["websocket"]
        or "websocket" not in eio.transports
    ):
        return False
    origin = request.headers.get("origin")
    if origin and eio.cors_allowed_origins != []:
        allowed = eio._cors_allowed_origins(environ)
        if allowed is not None and origin not in allowed:
            return False
    return True


def environ_of(request: ws.UpgradeRequest, client: Any, scheme: str) -> dict[str, Any]:
    """The WSGI-style environ python-socketio hands to the connect handler. The handshake's
    own headers (key, version, extensions) are left out: nothing reads them later."""
    host, port = client if isinstance(client, tuple) else ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query_string,
        "REMOTE_ADDR": host,
        "REMOTE_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scheme,
    }
    for name, value in request.headers.items():
        if name.startswith("sec-websocket-") or name in ("connection", "upgrade"):
            continue
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ
