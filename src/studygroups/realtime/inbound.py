"""What a client may send over Socket.IO, and what happens to the rest (docs/security.md).

`InboundGate` is the policy; the Socket.IO server (server.py) and the Engine.IO input checks
(packets.py) apply it to every packet before python-socketio turns anything into a handler call:

* Client events are exactly `CLIENT_EVENTS`. Any other name -- `connect` and `disconnect`
  included, which python-socketio's class-based namespaces would route to the connection
  handlers -- is refused with `BAD_REQUEST` and changes nothing.
* Binary events and acks are refused with `BAD_REQUEST`; their attachments are dropped as they
  arrive, never buffered.
* Every packet takes a token from its socket's bucket (`SOCKET_EVENT_BURST`, refilled at
  `SOCKET_EVENTS_PER_SECOND`). Without one it is not handled at all (an event with an ack id is
  answered `RATE_LIMITED`). Each refusal takes a token from a second bucket
  (`SOCKET_EVENT_FLOOD_LIMIT`, refilled at the same rate); when that one is empty too the socket
  is disconnected: a client that keeps sending at more than twice the rate does not stay.
* A malformed packet is dropped and counted. The first one of a connection is logged as one
  WARNING line, without a traceback; WARNING lines of this module are also rate limited across
  connections, so many connections cannot flood the log either.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studygroups.config import Settings
from studygroups.metrics import Metrics
from studygroups.ratelimit import Limit, RateLimiter

log = logging.getLogger("studygroups.realtime")

# API.md §2's table and §7's refreshToken: everything a client may emit.
CLIENT_EVENTS = frozenset({"joinSession", "leaveSession", "typing", "markRead", "refreshToken"})

# WARNING lines about clients' packets, across all connections: 10 at once, then 1 a second.
WARNINGS = Limit(rate=1.0, burst=10.0)
# Connections remembered as warned about; a report racing a disconnect could outlive `forget`,
# so the set is emptied (a few repeated warnings at worst) rather than allowed to grow.
MAX_TRACKED = 100_000


class Verdict(enum.Enum):
    """What to do with a socket's next packet, by its rate alone."""

    HANDLE = "handle"
    REFUSE = "refuse"  # over the rate: not handled, an event is acked RATE_LIMITED
    CLOSE = "close"  # flooding: disconnect the socket
    DROP = "drop"  # the socket is being disconnected for flooding: not handled, not answered


@dataclass(frozen=True)
class InboundLimits:
    """The per-socket inbound limits (Settings' socket_event* fields)."""

    events_per_second: float
    burst: int
    flood_limit: int

    def __post_init__(self) -> None:
        if not self.events_per_second > 0:
            raise ValueError("SOCKET_EVENTS_PER_SECOND must be positive")
        if self.burst < 1:
            raise ValueError("SOCKET_EVENT_BURST must be at least 1")
        if self.flood_limit < 1:
            raise ValueError("SOCKET_EVENT_FLOOD_LIMIT must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> InboundLimits:
        return cls(
            events_per_second=settings.socket_events_per_second,
            burst=settings.socket_event_burst,
            flood_limit=settings.socket_event_flood_limit,
        )


def refusal(code: str, message: str) -> dict[str, Any]:
    """An ack refusing an event, in the contract's shape."""
    return {"success": False, "error": {"code": code, "message": message}}


def sample(data: object, size: int = 24) -> str:
    """The start of a client's packet, safe to put on one log line."""
    return repr(data[:size] if isinstance(data, str | bytes) else type(data).__name__)


class InboundGate:
    """Per-socket rate, refusal counting and log rate limiting, keyed by Engine.IO sid.

    Callers record state only for live connections and call `forget` when one ends, so what is
    kept is bounded by the number of connections.
    """

    def __init__(
        self,
        limits: InboundLimits,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self._refused = metrics.socket_packets_refused
        self._flood_disconnects = metrics.socket_flood_disconnects
        rate = limits.events_per_second
        self._events = RateLimiter(Limit(rate=rate, burst=float(limits.burst)), clock)
        self._strikes = RateLimiter(Limit(rate=rate, burst=float(limits.flood_limit)), clock)
        self._warnings = RateLimiter(WARNINGS, clock)
        self._warned: set[str] = set()
        self._flooding: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> InboundGate:
        return cls(InboundLimits.from_settings(settings), metrics)

    def admit(self, sid: str) -> Verdict:
        """Take a token for one inbound packet of `sid`."""
        if self._events.allow(sid):
            return Verdict.HANDLE
        self._refused.labels("rate_limited").inc()
        if sid in self._flooding:
            return Verdict.DROP
        if self._strikes.allow(sid):
            return Verdict.REFUSE
        self._flooding.add(sid)
        self._flood_disconnects.inc()
        if self._warnings.allow(None):
            log.warning(
                "closing %s: it kept sending events beyond %g a second",
                sid,
                self.limits.events_per_second,
            )
        return Verdict.CLOSE

    def refuse(self, reason: str) -> None:
        """Count a packet refused for `reason` (binary, unknown_event): no log line."""
        self._refused.labels(reason).inc()

    def malformed(self, sid: str | None, what: str) -> None:
        """Count a malformed packet; log the first of a live connection (`sid`), once."""
        self._refused.labels("malformed").inc()
        if sid is not None:
            if sid in self._warned:
                return
            if len(self._warned) >= MAX_TRACKED:
                self._warned.clear()
            self._warned.add(sid)
        if self._warnings.allow(None):
            log.warning(
                "dropped a malformed packet from %s: %s; "
                "further ones from this connection are only counted",
                sid or "a client",
                what,
            )

    def forget(self, sid: str) -> None:
        """The connection ended."""
        self._events.forget(sid)
        self._strikes.forget(sid)
        self._warned.discard(sid)
        self._flooding.discard(sid)
