"""Token buckets with an injected clock; every limit the service enforces is in LIMITS."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens added per second
    burst: float  # bucket size


LIMITS: dict[str, Limit] = {
    # `typing` is relayed at most once per 250 ms per user and session (API.md).
    "typing": Limit(rate=4.0, burst=1.0),
    # Joining is cheap for people and costly for floods: 10 at once, then 2 per second per socket.
    "join": Limit(rate=2.0, burst=10.0),
    # Read receipts and other small socket events, per socket.
    "socket": Limit(rate=20.0, burst=40.0),
    # The same events per user, across their sockets and reconnects (a new socket has a full
    # bucket of its own): far above one join per connection of a flaky network, far below a
    # member cycling 20 sockets (~880 joins a second, each a read and a presence write).
    "join_user": Limit(rate=20.0, burst=60.0),
    "socket_user": Limit(rate=40.0, burst=80.0),
    # REST writes per user: generous for people, a wall for scripts gone wrong.
    "rest_write": Limit(rate=50.0, burst=100.0),
    # Bytes of answers kept for Idempotency-Key retries (24 h), per user and process: 8 MiB at
    # once, 8 MiB more per day. Thousands of keyed writes a day for people; without it a user
    # repeating a no-op PATCH of a group with a full playlist stored ~7 MB a second.
    "kept_answers": Limit(rate=8 * 2**20 / 86_400, burst=8 * 2**20),
}


class RateLimiter:
    """Keyed token buckets; `allow(key)` takes one token or says no."""

    def __init__(
        self, limit: Limit, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._buckets: dict[object, tuple[float, float]] = {}
        self._max_keys = max_keys

    def allow(self, key: object, cost: float = 1.0) -> bool:
        """Take `cost` tokens (at most a full bucket's worth) or say no."""
        now = self._clock()
        cost = min(cost, self._limit.burst)
        tokens, last = self._buckets.get(key, (self._limit.burst, now))
        tokens = min(self._limit.burst, tokens + (now - last) * self._limit.rate)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            return False
        if len(self._buckets) >= self._max_keys and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens - cost, now)
        return True

    def settle(self, key: object, tokens: float) -> None:
        """Correct a taken cost once the work's size is known: give back `tokens` (never above
        the burst), or take more when negative (the bucket may go below zero: wait longer)."""
        if key in self._buckets:
            held, last = self._buckets[key]
            self._buckets[key] = (min(self._limit.burst, held + tokens), last)

    def forget(self, key: object) -> None:
        self._buckets.pop(key, None)

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information."""
        full_after = self._limit.burst / self._limit.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
