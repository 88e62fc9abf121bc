"""Annotated dependencies: who is calling, and a writer that runs a command once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from studygroups.domain.errors import Invalid, RateLimited
from studygroups.identity import Identity, TokenCache
from studygroups.ratelimit import LIMITS, RateLimiter
from studygroups.services.commands import Reply, RetryKey, execute
from studygroups.services.groups import PlaylistLimit
from studygroups.services.presence import Presence
from studygroups.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from studygroups.services.users import UserDirectory


@dataclass
class ApiState:
    """What the routes need from the app, set once by create_app."""

    units: UnitOfWorkFactory
    users: UserDirectory
    jwt_secret: str
    write_limiter: RateLimiter
    presence: Presence
    tokens: TokenCache = field(default_factory=TokenCache)
    read_limiter: RateLimiter | None = None  # REST_READS_PER_SECOND; None: reads unlimited
    on_read_limited: Callable[[], None] | None = None  # counts a refused read
    playlist: PlaylistLimit = field(default_factory=PlaylistLimit)
    dev_token_ttl_seconds: int = 8 * 3600  # lifetime of a POST /dev/token token
    kept_answers: RateLimiter = field(default_factory=lambda: RateLimiter(LIMITS["kept_answers"]))


async def api_state(request: Request) -> ApiState:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request.
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(api_state)]
Authorization = Annotated[str | None, Header()]


async def _identify(state: ApiState, authorization: str | None) -> Identity:
    identity = state.tokens.decode(authorization, state.jwt_secret)
    await state.users.remember(identity)
    return identity


# A read takes one token from its user's bucket, plus one per this many rows. A `/feed` page of
# 1,000 events can weigh 12 MB: a read reserves tokens for the rows its `limit` allows (so
# concurrent big reads are bounded while they run) and gets back those for rows it did not
# return (so a big `limit` on a short feed costs one token); rows beyond it are charged after.
ROWS_PER_TOKEN = 100


@dataclass
class ReadCost:
    """The tokens of one read: reserved for the rows it may return, settled for those it did."""

    limiter: RateLimiter
    key: str
    limit_rows: int

    def reserve(self) -> bool:
        return self.limiter.allow(self.key, 1 + self.limit_rows // ROWS_PER_TOKEN)

    def settle(self, result: Any) -> None:
        unused = self.limit_rows // ROWS_PER_TOKEN - _rows(result) // ROWS_PER_TOKEN
        if unused:
            self.limiter.settle(self.key, unused)

    @staticmethod
    def asked(request: Request) -> int:
        """The rows a request asks for with `limit` (0 when it does not)."""
        limit = request.query_params.get("limit", "")
        return int(limit) if limit.isdigit() and len(limit) < 7 else 0


def _rows(result: Any) -> int:
    if isinstance(result, list):
        return len(result)
    if isinstance(result, dict):
        return sum(len(value) for value in result.values() if isinstance(value, list))
    return 0


def _check_no_nul(request: Request) -> None:
    """Ids and queries: PostgreSQL text cannot hold NUL (SQLite can), so it is refused here on
    every database alike, before a query could fail on it."""
    values = list(request.path_params.values())
    if request.scope.get("query_string"):  # parsed only when there is one (not on the hot path)
        values.extend(request.query_params.values())
    for value in values:
        if "\x00" in str(value):
            raise Invalid("text must not contain NUL characters (\\u0000)")


@dataclass
class Reader:
    """Runs a read-only query in its own unit of work."""

    identity: Identity
    units: UnitOfWorkFactory
    cost: ReadCost | None = None

    async def __call__(self, query: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
        async with self.units(writing=False) as uow:
            result = await query(uow)
        if self.cost is not None:
            self.cost.settle(result)
        return result


# Readers and writers are one dependency each, not a chain (state, then identity, then this):
# FastAPI's cost grows with every dependency it solves, and these run on every request.
async def reader(request: Request, authorization: Authorization = None) -> Reader:
    state: ApiState = request.app.state.api
    identity = await _identify(state, authorization)
    _check_no_nul(request)
    cost = None
    if state.read_limiter is not None:
        cost = ReadCost(state.read_limiter, identity.user_id, ReadCost.asked(request))
        if not cost.reserve():
            if state.on_read_limited is not None:
                state.on_read_limited()
            raise RateLimited("too many reads; slow down")
    return Reader(identity, state.units, cost)


ReaderDep = Annotated[Reader, Depends(reader)]


@dataclass
class Writer:
    """Runs a command in one transaction, at most once per Idempotency-Key."""

    identity: Identity
    units: UnitOfWorkFactory
    retry: RetryKey | None
    kept: RateLimiter | None = None  # ApiState.kept_answers

    async def __call__(
        self, command: Callable[[UnitOfWork], Awaitable[Any]], status_code: int = 200
    ) -> JSONResponse:
        async def run(uow: UnitOfWork) -> Reply:
            return Reply(status_code, await command(uow))

        reply = await execute(self.units, run, self.retry, self.kept)
        return JSONResponse(reply.body, status_code=reply.status_code)


async def writer(
    request: Request,
    # This order keeps the OpenAPI document as it was when the identity was a sub-dependency.
    idempotency_key: Annotated[str | None, Header()] = None,
    authorization: Authorization = None,
) -> Writer:
    state: ApiState = request.app.state.api
    identity = await _identify(state, authorization)
    _check_no_nul(request)
    if not state.write_limiter.allow(identity.user_id):
        raise RateLimited("too many writes; slow down")
    retry = None
    if idempotency_key is not None:
        body = await request.body()
        # The query belongs to the request (`?groupId=` picks the group a session is made in).
        target = (
            f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
        )
        retry = RetryKey.of(identity.user_id, idempotency_key, request.method, target, body)
    return Writer(identity, state.units, retry, state.kept_answers)


WriterDep = Annotated[Writer, Depends(writer)]
