"""New connections wait while the process is busy letting earlier ones join.

After a restart every client of the process reconnects at once: hundreds of CONNECTs wait in
the accept queue, the app answers them all within a second, and then every client's
`joinSession` arrives together. Joins read the database and Redis, so they interleave, and
each of them took about as long as all of them together (bench/run storm: join p99 4x the Node
peer's, whose joins run one after another in memory). Here a CONNECT is answered only while
fewer than `limit` sockets are joining or were just let in and have not sent their join yet
(a reservation, kept `grace` seconds at most, so a client slow to join, or one that never
joins, holds no one up for long). The others wait in arrival order. The process does the same
work in the same time; each client's join is answered in about `limit` joins' time instead of
the whole crowd's, and the first clients are back first.

Work-conserving: with nobody joining nothing waits, and a reservation lapses after `grace`,
so clients far away (their join comes a round trip after the CONNECT's answer) are never held
to fewer than `limit / grace` admissions per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator

ADMISSION_LIMIT = 8  # sockets joining or about to join at once
ADMISSION_GRACE = 0.25  # seconds a let-in socket's reservation lasts without a join


class Admission:
    """CONNECTs wait (FIFO) while `joining + reserved >= limit`."""

    def __init__(
        self,
        limit: int = ADMISSION_LIMIT,
        grace: float = ADMISSION_GRACE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._grace = grace
        self._clock = clock
        self._reserved: OrderedDict[str, float] = OrderedDict()  # sid → deadline, oldest first
        self._joining = 0
        self._waiting: deque[tuple[str, asyncio.Future[None]]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.waited = 0  # CONNECTs that had to wait, for the metrics

    @property
    def busy(self) -> bool:
        self._expire()
        return self._joining + len(self._reserved) >= self._limit

    async def admit(self, sid: str) -> None:
        """Return once the socket may be answered; it then holds a reservation until its first
        join starts, it is `forget`ten, or `grace` passes."""
        if not self._waiting and not self.busy:
            self._reserve(sid)
            return
        self.waited += 1
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (sid, granted)
        self._waiting.append(entry)
        self._arm()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.forget(sid)  # granted as it was cancelled: give the place back
            else:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(entry)
            raise

    @contextlib.contextmanager
    def joining(self, sid: str) -> Iterator[None]:
        """A join in progress: it counts against the limit (taking over the socket's
        reservation, if it still holds one) until it is answered."""
        self._reserved.pop(sid, None)
        self._joining += 1
        try:
            yield
        finally:
            self._joining -= 1
            self._wake()

    def forget(self, sid: str) -> None:
        """The socket is gone (or refused): its reservation, if any, goes to the next."""
        if self._reserved.pop(sid, None) is not None:
            self._wake()

    def _reserve(self, sid: str) -> None:
        self._reserved.pop(sid, None)  # to the end: deadlines stay in order
        self._reserved[sid] = self._clock() + self._grace

    def _expire(self) -> None:
        now = self._clock()
        reserved = self._reserved
        while reserved:
            sid, deadline = next(iter(reserved.items()))
            if deadline > now:
                break
            del reserved[sid]

    def _wake(self) -> None:
        while self._waiting and not self.busy:
            sid, granted = self._waiting.popleft()
            if granted.done():  # cancelled meanwhile
                continue
            self._reserve(sid)
            granted.set_result(None)
        self._arm()

    def _arm(self) -> None:
        """While CONNECTs wait, wake them when the oldest reservation lapses."""
        if self._timer is not None or not self._waiting or not self._reserved:
            return
        deadline = next(iter(self._reserved.values()))
        delay = max(0.0, deadline - self._clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._wake()
