"""Running a command once: the transaction, and the Idempotency-Key record stored inside it.

A request with a key stores its first answer in the same transaction as its change, so a crash
cannot keep one without the other. A repeat returns that answer and changes nothing; a repeat
racing the first waits on the key's row (PostgreSQL) or the writer slot (SQLite), then replays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from studygroups.domain.errors import Conflict, DomainError, Invalid, RateLimited
from studygroups.ratelimit import RateLimiter
from studygroups.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from studygroups.storage import idempotency
from studygroups.storage.tables import IdempotencyRecord

KEY_MAX = 64
KEEP_FOR = timedelta(hours=24)
PENDING = 0


@dataclass(frozen=True)
class Reply:
    status_code: int
    body: Any


@dataclass(frozen=True)
class RetryKey:
    """An Idempotency-Key, scoped to the user, with a fingerprint of the request it came with."""

    user_id: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, user_id: str, key: str, method: str, path: str, body: bytes) -> RetryKey:
        if not 1 <= len(key) <= KEY_MAX:
            raise Invalid(f"Idempotency-Key must be 1..{KEY_MAX} characters")
        digest = hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()
        return cls(user_id=user_id, key=key, fingerprint=digest)


Command = Callable[[UnitOfWork], Awaitable[Reply]]


async def execute(
    units: UnitOfWorkFactory,
    command: Command,
    retry: RetryKey | None,
    kept: RateLimiter | None = None,
) -> Reply:
    """Run `command` in one transaction and commit; with a key, at most once per key. `kept`
    bounds the bytes of answers a user's keys keep (LIMITS["kept_answers"]): a keyed write whose
    answer would go past it is refused (RateLimited) and rolled back, so nothing changes."""
    if retry is None:
        async with units() as uow:
            reply = await command(uow)
            await uow.commit()
            return reply
    try:
        return await _execute_once(units, command, retry, kept)
    except (IntegrityError, DomainError):
        # Another request with the same key may have committed meanwhile: answer as it did.
        replay = await _stored_reply(units, retry)
        if replay is None:
            raise
        return replay


async def _execute_once(
    units: UnitOfWorkFactory, command: Command, retry: RetryKey, kept: RateLimiter | None
) -> Reply:
    async with units() as uow:
        stored = await idempotency.get(uow.db, retry.user_id, retry.key)
        if stored is not None:
            return _replay(stored, retry)
        record = IdempotencyRecord(
            user_id=retry.user_id,
            key=retry.key,
            fingerprint=retry.fingerprint,
            status_code=PENDING,
            body={},
            created_at=uow.now(),
        )
        uow.db.add(record)
        await uow.db.flush()  # claims the key: a concurrent twin waits here until we finish
        reply = await command(uow)
        if kept is not None and not kept.allow(retry.user_id, len(orjson.dumps(reply.body))):
            raise RateLimited(  # leaving the unit of work uncommitted rolls the write back
                "too many answers kept for Idempotency-Key retries; nothing was changed: "
                "retry later, or without the header"
            )
        record.status_code, record.body = reply.status_code, reply.body
        await uow.commit()
        return reply


async def _stored_reply(units: UnitOfWorkFactory, retry: RetryKey) -> Reply | None:
    async with units(writing=False) as uow:
        stored = await idempotency.get(uow.db, retry.user_id, retry.key)
        return None if stored is None else _replay(stored, retry)


def _replay(stored: IdempotencyRecord, retry: RetryKey) -> Reply:
    if stored.fingerprint != retry.fingerprint:
        raise Conflict("this Idempotency-Key was used with a different request")
    if stored.status_code == PENDING:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    return Reply(stored.status_code, stored.body)


async def purge_expired_keys(units: UnitOfWorkFactory) -> int:
    async with units() as uow:
        removed = await idempotency.purge_before(uow.db, uow.now() - KEEP_FOR)
        await uow.commit()
        return removed
