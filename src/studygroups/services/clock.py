"""The phase clock: fire due deadlines once across processes, and sleep until the next one.

`fire_due` is the use case: in one transaction it locks due sessions, claims their due timers
(a conditional UPDATE … RETURNING only one process can win), and records `round.timeUp` and,
with auto_advance, the advance that follows. `PhaseClock` runs it: one asyncio timer for the
nearest known deadline, re-armed when a durable event (this process's or a peer's) carries an
earlier `endsAt`. No polling: between deadlines the process sleeps (a long safety re-read
covers a peer's event lost with a broken Redis link).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from studygroups.domain import rounds as round_rules
from studygroups.domain.errors import GateNotMet
from studygroups.domain.events import RoundTimeUp
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import SessionStatus
from studygroups.domain.timer import STOPPED
from studygroups.services import phases
from studygroups.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from studygroups.storage import deadlines
from studygroups.storage.event_log import iso_timestamp
from studygroups.storage.tables import GroupSession, Round

log = logging.getLogger("studygroups.clock")

BATCH = 100
SAFETY_REREAD_SECONDS = 60.0
BUSY_RETRY_SECONDS = 0.05  # a due deadline another process holds: look again soon
ERROR_RETRY_SECONDS = 1.0
TIMED_EVENTS = frozenset({"round.advanced", "round.timerChanged"})


@dataclass(frozen=True)
class Pass:
    fired: int  # round.timeUp recorded
    sessions: int  # sessions locked this pass
    lags: list[float]  # seconds from ends_at to the firing, one per round.timeUp


async def fire_due(uow: UnitOfWork, limit: int = BATCH) -> Pass:
    """Fire every claimed due deadline of up to `limit` sessions; the caller commits.

    Sessions without auto_advance, the common case, are fired in bulk: one claim, one
    executemany for their seqs, one for their events; an auto-advancing session runs its
    advance one by one."""
    now = uow.now()
    sessions = await deadlines.lock_due_sessions(uow.db, now, limit, skip_locked=uow.is_postgres)
    if not sessions:
        return Pass(fired=0, sessions=0, lags=[])
    claimed: dict[str, list[Round]] = {}
    for row in await deadlines.claim(uow.db, [s.id for s in sessions], now):
        claimed.setdefault(row.session_id, []).append(row)
    lags: list[float] = []
    plain: list[tuple[GroupSession, list[Round]]] = []
    for session in sessions:
        rows = claimed.get(session.id, [])
        if session.status != SessionStatus.RUNNING:
            for row in rows:  # not reachable by the API: leaving RUNNING stops the timers
                phases.store_timer(row, STOPPED)
            continue
        lags.extend((now - _ends_at(row, now)).total_seconds() for row in rows)
        if session.auto_advance:
            for row in rows:
                await _time_up(uow, session, row, _ends_at(row, now))
        elif rows:
            plain.append((session, rows))
    if plain:
        lasts = await deadlines.take_seqs(uow.db, [(s, len(rows)) for s, rows in plain])
        await uow.record_numbered_many(
            [
                (
                    session.id,
                    last,
                    [_time_up_event(session, row, _ends_at(row, now)) for row in rows],
                )
                for (session, rows), last in zip(plain, lasts, strict=True)
            ]
        )
    return Pass(fired=len(lags), sessions=len(sessions), lags=lags)


def _ends_at(row: Round, now: datetime) -> datetime:
    return deadlines.as_utc(row.ends_at) if row.ends_at is not None else now


def _time_up_event(session: GroupSession, row: Round, ends_at: datetime) -> RoundTimeUp:
    return RoundTimeUp(
        session.id,
        round_id=row.id,
        round_index=row.round_index,
        status=RoundStatus(row.status),
        ends_at=iso_timestamp(ends_at),
    )


async def _time_up(uow: UnitOfWork, session: GroupSession, row: Round, ends_at: datetime) -> None:
    await uow.record(session.id, _time_up_event(session, row, ends_at))
    target = round_rules.next_status(RoundStatus(row.status))
    if not session.auto_advance or target is None:
        return
    # The gates on votes are waived (as force); DONE still needs the explanation.
    with contextlib.suppress(GateNotMet):
        await phases.move_round(uow, session, row, target, force=True, auto=True)


async def nearest_deadline(units: UnitOfWorkFactory) -> datetime | None:
    async with units(writing=False) as uow:
        return await deadlines.nearest(uow.db)


class PhaseClock:
    """One process's runner of `fire_due`: sleeps until the nearest deadline it knows."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        *,
        batch: int = BATCH,
        on_pass: Callable[[Pass], None] | None = None,
    ) -> None:
        self._units = units
        self._batch = batch
        self._on_pass = on_pass
        self._wake = asyncio.Event()
        self._armed: datetime | None = None

    def notice(self, event: str, data: dict[str, object]) -> None:
        """A durable event committed here or by a peer: wake up if it sets an earlier deadline."""
        if event not in TIMED_EVENTS:
            return
        ends_at = data.get("endsAt")
        if not isinstance(ends_at, str):
            return
        try:
            moment = datetime.fromisoformat(ends_at)
        except ValueError:
            return
        if self._armed is None or moment < self._armed:
            self._wake.set()

    async def fire_now(self) -> Pass:
        """Fire until nothing due is left that this process could lock; the total."""
        fired, lags = 0, list[float]()
        while True:
            async with self._units() as uow:
                done = await fire_due(uow, self._batch)
                await uow.commit()
            if self._on_pass is not None:
                self._on_pass(done)
            fired, lags = fired + done.fired, lags + done.lags
            if done.sessions < self._batch:
                return Pass(fired=fired, sessions=0, lags=lags)

    async def run(self) -> None:
        failed = 0  # passes failed in a row: an outage is logged once, not every second
        while True:
            self._wake.clear()
            try:
                await self.fire_now()
                nearest = await nearest_deadline(self._units)
                self._armed = nearest
                wait = self._until(nearest)
                if failed:
                    log.info("phase clock passes again after %d failed passes", failed)
                    failed = 0
            except Exception:
                failed += 1
                if failed == 1:
                    log.warning(
                        "phase clock pass failed; retrying every %g s, said again when it passes",
                        ERROR_RETRY_SECONDS,
                        exc_info=True,
                    )
                self._armed, wait = None, ERROR_RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _until(self, nearest: datetime | None) -> float:
        if nearest is None:
            return SAFETY_REREAD_SECONDS
        left = (nearest - self._units.clock()).total_seconds()
        if left <= 0:
            return BUSY_RETRY_SECONDS  # due but held by another process (or its commit racing)
        return min(left + 0.002, SAFETY_REREAD_SECONDS)
