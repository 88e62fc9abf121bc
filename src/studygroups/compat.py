"""Every non-public name of another library that this project touches, in one place.

The realtime transport and the SQLite driver reach into uvicorn, websockets, python-engineio,
python-socketio and aiosqlite beyond their documented APIs (docs/architecture.md,
"Dependencies"). The modules and classes are imported here and nowhere else; the attributes the
code reads, calls or overrides on those libraries' objects are listed in `INTERNALS`, each with
the module of ours that relies on it. `missing()` names each one a release no longer has;
tests/unit/test_compat.py fails with that list, so a dependency bump that removes an internal is
caught by name, not by a traceback deep inside a connection. Where a library documents an
extension point, it is preferred (python-socketio's `_listen`, which pub/sub managers are told
to implement, rather than `_redis_listen_with_retries`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engineio import payload as engineio_payload
from engineio.async_drivers import asgi as engineio_asgi
from socketio.msgpack_packet import MsgPackPacket as SocketIOMsgPackPacket
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

try:
    from websockets.speedups import apply_mask  # C; installed with uvicorn[standard]
except ImportError:  # pragma: no cover - the pure-Python masker, 10x slower
    from websockets.utils import apply_mask

__all__ = [
    "INTERNALS",
    "HttpToolsProtocol",
    "SocketIOMsgPackPacket",
    "WebSocketsSansIOProtocol",
    "apply_mask",
    "asgi_protocol",
    "engineio_asgi",
    "engineio_payload",
    "missing",
]


def asgi_protocol(send: Any) -> Any:
    """The uvicorn protocol object behind an ASGI `send` (a bound method of it), or None."""
    return getattr(send, "__self__", None)


@dataclass(frozen=True)
class Internal:
    """Non-public names on one object: `where` is a module (or module:Class), `names` the
    attributes used, `user` the module of ours that uses them."""

    where: str
    names: tuple[str, ...]
    user: str


# Attributes set in __init__ are checked on an instance built by one of these factories.
def _engineio_server() -> Any:
    import engineio

    return engineio.AsyncServer(async_mode="asgi")


def _engineio_socket() -> Any:
    from engineio.async_socket import AsyncSocket

    return AsyncSocket(_engineio_server(), "sid")


def _socketio_server() -> Any:
    import socketio

    return socketio.AsyncServer(async_mode="asgi")


def _redis_manager() -> Any:
    import socketio

    manager = socketio.AsyncRedisManager("redis://127.0.0.1:1", write_only=True)
    manager._redis_connect()  # builds the client and its pubsub; connects lazily, not here
    return manager


def _uvicorn_protocol(protocol: type[Any]) -> Any:
    import asyncio

    import uvicorn
    from uvicorn.server import ServerState

    config = uvicorn.Config(app=_uvicorn_protocol, log_config=None)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        return protocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    finally:
        loop.close()


def _uvicorn_server() -> Any:
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app=_uvicorn_server, log_config=None))


def _socketio_manager() -> Any:
    return _socketio_server().manager


def _aiosqlite_connection() -> Any:
    import sqlite3

    import aiosqlite

    return aiosqlite.Connection(lambda: sqlite3.connect(":memory:"), iter_chunk_size=64)


INSTANCES: dict[str, Callable[[], Any]] = {
    "engineio:AsyncServer()": _engineio_server,
    "engineio.async_socket:AsyncSocket()": _engineio_socket,
    "socketio:AsyncServer()": _socketio_server,
    "socketio:AsyncRedisManager()": _redis_manager,
    "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol()": lambda: _uvicorn_protocol(
        HttpToolsProtocol
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol()": lambda: (
        _uvicorn_protocol(WebSocketsSansIOProtocol)
    ),
    "socketio:AsyncServer().manager": _socketio_manager,
    "uvicorn:Server()": _uvicorn_server,
    "uvicorn.server:ServerState()": lambda: _uvicorn_server().server_state,
    "aiosqlite:Connection()": _aiosqlite_connection,
}

INTERNALS: tuple[Internal, ...] = (
    Internal(
        "uvicorn:Server()",
        ("force_exit", "server_state"),
        "api/shutdown.py (which also reads `servers` and `lifespan`, set at startup)",
    ),
    Internal("uvicorn.server:ServerState()", ("connections", "tasks"), "api/shutdown.py"),
    Internal(
        "uvicorn:Server",
        ("handle_exit", "main_loop", "on_tick", "shutdown", "startup"),
        "api/shutdown.py (overrides handle_exit, main_loop and shutdown)",
    ),
    Internal(
        "uvicorn.protocols.websockets.websockets_sansio_impl",
        ("WebSocketsSansIOProtocol",),
        "realtime/protocol.py (the fallback for WebSockets not served natively)",
    ),
    Internal(
        "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol()",
        ("connection_made", "data_received", "send", "transport"),
        "realtime/protocol.py, realtime/bounds.py (`send.__self__.transport`)",
    ),
    Internal(
        "uvicorn.protocols.http.httptools_impl",
        ("HttpToolsProtocol",),
        "api/connections.py",
    ),
    Internal(
        "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol()",
        (
            "app_state",
            "client",
            "connections",
            "loop",
            "on_headers_complete",
            "on_message_begin",
            "on_response_complete",
            "timeout_keep_alive_task",
            "transport",
        ),
        "api/connections.py",
    ),
    Internal("websockets.utils", ("apply_mask",), "realtime/websocket.py"),
    Internal(
        "engineio.async_drivers.asgi", ("WebSocket", "translate_request"), "realtime/packets.py"
    ),
    Internal("engineio.payload:Payload", ("max_decode_packets",), "realtime/packets.py"),
    Internal(
        "engineio:AsyncServer()",
        (
            "_async",
            "_cors_allowed_origins",
            "_service_task",
            "create_queue",
            "generate_id",
            "handlers",
            "reason",
            "sockets",
        ),
        "realtime/engine.py, upgrade.py, fanout.py, bounds.py, packets.py, server.py;"
        " _service_task is the monitor that skips `closing` sockets and deletes `closed` ones"
        " by sid (upgrade.py retires a polling socket as closing; the upgrade-monitor test"
        " drives it)",
    ),
    Internal(
        "engineio.async_socket:AsyncSocket()",
        ("close", "closed", "closing", "connected", "queue", "session", "upgraded", "upgrading"),
        "realtime/upgrade.py, fanout.py, bounds.py, server.py (`None` ends its queue)",
    ),
    Internal(
        "engineio.async_socket:AsyncSocket",
        ("_websocket_handler",),
        "realtime/packets.py (the driver's WebSocket gets this bound method: its sid)",
    ),
    Internal(
        "socketio:AsyncServer()",
        (
            "_engineio_server_class",
            "_handle_ack",
            "_handle_connect",
            "_handle_disconnect",
            "_handle_eio_connect",
            "_handle_eio_disconnect",
            "_handle_eio_message",
            "_handle_event",
            "_send_packet",
            "environ",
            "packet_class",
        ),
        "realtime/server.py",
    ),
    Internal(
        "socketio:AsyncServer()",
        ("manager_initialized",),
        "app.py (the phase clock subscribes to Redis before the first socket)",
    ),
    Internal("socketio.packet:Packet", ("uses_binary_events",), "realtime/codecs.py"),
    Internal(
        "socketio.msgpack_packet:MsgPackPacket",
        ("decode", "encode", "uses_binary_events"),
        "realtime/codecs.py (subclassed: encode and decode replaced; the constructor decodes"
        " an `encoded_packet` with `decode` and reads the attributes it sets)",
    ),
    Internal(
        "socketio:AsyncRedisManager()",
        (
            "_handle_emit",
            "_listen",
            "_redis_connect",
            "channel",
            "pubsub",
            "redis",
            "connected",
            "redis_url",
            "redis_options",
            "host_id",
        ),
        "realtime/managers.py (ClusterManager; _redis_connect replaced to use a waiting pool;"
        " host_id marks its batches of internal messages, skipped by their publisher)",
    ),
    Internal(
        "socketio:AsyncServer().manager",
        (
            "basic_enter_room",
            "basic_leave_room",
            "get_namespaces",
            "get_participants",
            "is_connected",
            "rooms",
            "server",
            "sid_from_eio_sid",
        ),
        "realtime/server.py, managers.py: fanout path (broadcast_locally); namespace.py: session"
        " rooms entered and left locally (basic_enter_room, basic_leave_room)",
    ),
    Internal(
        "aiosqlite:Connection()",
        ("_conn", "_connection", "_thread"),
        "storage/sqlite_driver.py",
    ),
)


def _resolve(where: str) -> Any:
    """The module, class or (for a name ending in `()`) instance that `where` names."""
    if where in INSTANCES:
        return INSTANCES[where]()
    module_name, _, attribute = where.partition(":")
    target: Any = importlib.import_module(module_name)
    if attribute:
        target = getattr(target, attribute)
    return target


def _has(target: Any, name: str) -> bool:
    try:
        return hasattr(target, name)
    except Exception:  # noqa: BLE001 -- a property that raises still exists
        return True


def missing() -> list[str]:
    """Every listed internal the installed libraries no longer have, as `where.name (user)`."""
    gone: list[str] = []
    for internal in INTERNALS:
        try:
            target = _resolve(internal.where)
        except (ImportError, AttributeError) as error:
            gone.append(f"{internal.where} ({internal.user}): {error}")
            continue
        for name in internal.names:
            if not _has(target, name):
                gone.append(f"{internal.where}.{name} ({internal.user})")
    return gone
