"""How many new WebSocket clients are on their way in at once; the next ones wait unanswered.

After a restart every client of the process reconnects within a second or two, and each costs
a few milliseconds of CPU on the one event loop: the upgrade, the Socket.IO CONNECT (a token to
verify), then the join (membership, replay, presence). A join awaits the database and Redis a
few times, and every await costs it a loop turn. Served as they come, all the arrivals' steps
share every turn, so each join took about as long as the whole storm's handshakes together
(`bench/run storm`, docs/performance.md).

`Admission` gives a new client a place from its upgrade until its first `joinSession` is
answered, its socket closes, or `hold_seconds` pass without a join having begun (a client that
listens to its own user's events only). An upgrade arriving while every place is held is
neither read further nor answered (its connection's reading is paused) until a place frees;
then the waiting ones go in arrival order. The work is the same; a client who is in has its
join answered in a few short turns instead of at the end of the storm.

The number of places follows how much of the time the loop's thread ran on a CPU while clients
waited (its CPU time over the wall time, every PROBE_SECONDS): fewer places, down to
`min_places`, when it ran over BUSY_HIGH of the time (the joins would queue behind each other),
more, up to `max_places`, when under BUSY_LOW (the loop idles while the clients holding places
are away on their network round trip, wait for the database, or while other processes hold the
CPU). A slow network or database does not slow the arrivals down, and a busy loop does not
slow the joins down.

Only new sessions on the native WebSocket path wait here; a long-polling session upgrading
(already in) and everything python-engineio serves do not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("studygroups.realtime")

MIN_PLACES = 8
MAX_PLACES = 1024
# A client that has not begun a join this long after its upgrade gives its place up.
HOLD_SECONDS = 0.5
# While clients wait, every PROBE_SECONDS: fewer places when the loop's thread ran more than
# BUSY_HIGH of the time, more when it ran less than BUSY_LOW.
BUSY_HIGH = 0.8
BUSY_LOW = 0.6
PROBE_SECONDS = 0.02


class Admission:
    """Places for new clients, each held by its Engine.IO sid; waiting upgrades go in order."""

    def __init__(
        self,
        places: int = MIN_PLACES,
        hold_seconds: float = HOLD_SECONDS,
        *,
        min_places: int = MIN_PLACES,
        max_places: int = MAX_PLACES,
    ) -> None:
        self.places = places
        self.hold_seconds = hold_seconds
        self.min_places = min_places
        self.max_places = max_places
        self._held: dict[str, asyncio.TimerHandle | None] = {}
        self._waiting: deque[Callable[[], bool]] = deque()
        self._probe: asyncio.TimerHandle | None = None

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def full(self) -> bool:
        """Every place is held, or upgrades wait already (nobody jumps the queue)."""
        return len(self._held) >= self.places or bool(self._waiting)

    def wait(self, start: Callable[[], bool]) -> None:
        """Call `start` once a place is free: it opens the socket (True, taking the place with
        `hold`) or finds its client gone (False)."""
        self._waiting.append(start)
        if self._probe is None:
            self._arm_probe(asyncio.get_running_loop())

    def hold(self, sid: str) -> None:
        """A new client's socket is open: it holds a place until `release`, or until
        `hold_seconds` pass without `joining`."""
        loop = asyncio.get_running_loop()
        self._held[sid] = loop.call_later(self.hold_seconds, self.release, sid)

    def joining(self, sid: str) -> None:
        """The client's first join began: its place is held until the join is answered."""
        timer = self._held.get(sid)
        if timer is not None:
            timer.cancel()
            self._held[sid] = None

    def release(self, sid: str) -> None:
        """The client is in (its join answered), gone or late: its place goes to the next."""
        if sid not in self._held:
            return
        timer = self._held.pop(sid)
        if timer is not None:
            timer.cancel()
        self._let_in()

    def _let_in(self) -> None:
        while self._waiting and len(self._held) < self.places:
            start = self._waiting.popleft()
            try:
                start()
            except Exception:
                log.exception("could not serve a waiting WebSocket upgrade")

    # -- the number of places, from how much of the time the loop ran while clients waited ----

    def _arm_probe(self, loop: asyncio.AbstractEventLoop) -> None:
        since = (loop.time(), time.thread_time())
        self._probe = loop.call_later(PROBE_SECONDS, self._probed, loop, since)

    def _probed(self, loop: asyncio.AbstractEventLoop, since: tuple[float, float]) -> None:
        self._probe = None
        if not self._waiting:
            return  # nobody waits: the places stay as they are until the next storm
        wall, cpu = since
        self.adapt((time.thread_time() - cpu) / max(loop.time() - wall, 1e-3))
        self._let_in()
        if self._waiting:
            self._arm_probe(loop)

    def adapt(self, busy: float) -> None:
        """While clients waited, the loop's thread ran on a CPU `busy` of the time: fewer
        places when it had little to spare, more when it idled."""
        if busy > BUSY_HIGH:
            self.places = max(self.min_places, self.places - max(1, self.places // 8))
        elif busy < BUSY_LOW:
            self.places = min(self.max_places, self.places + max(1, self.places // 4))
