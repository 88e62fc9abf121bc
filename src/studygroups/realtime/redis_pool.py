"""Redis clients whose connection pool waits for a free connection instead of failing.

redis-py's default pool holds at most 100 connections and raises "Too many connections" at the
101st concurrent command. A reconnect storm (thousands of joins and disconnects at once, each
touching presence, and a publish per emit) reaches that at once: presence would fall back to
one process's view, disconnect handlers would fail, and python-socketio would give up on
publishes. A blocking pool makes the 101st command wait for a connection instead, up to
`wait_seconds`, which bounds the connections each process opens and keeps every command.
"""

from __future__ import annotations

import functools
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.driver_info import DriverInfo

# Connections per client (presence and the Socket.IO manager each have one pool per process).
POOL_SIZE = 100
# How long a command waits for a free connection before it fails as Redis being unavailable.
POOL_WAIT_SECONDS = 5.0


def waiting_client(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    wait_seconds: float = POOL_WAIT_SECONDS,
    **options: Any,
) -> Redis:
    """A Redis client on a pool of `pool_size` connections where commands wait their turn."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=wait_seconds,
        driver_info=_driver_info(),
        **options,
    )
    return Redis.from_pool(pool)  # closing the client closes its pool


@functools.cache
def _driver_info() -> DriverInfo:
    """What every connection tells Redis it is (CLIENT SETINFO), made once: left to redis-py,
    each new connection reads the package's metadata from disk for its version (~7 % of a
    restarted process's CPU while a reconnect storm opens its pools)."""
    return DriverInfo()
