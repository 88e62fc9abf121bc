"""Presence shared by every process through Redis, with entries that expire with their process.

Layout (all keys under `<prefix>:`, REDIS_PREFIX, `sg` by default, so deployments or test runs
sharing one Redis keep apart):
* `<prefix>:presence:<session>` — hash; field `<userId>\\n<sid>`, value `<hostId>\\n<userName>`.
* `<prefix>:presence-sessions` — set of sessions that have entries (what the reaper walks).
* `<prefix>:hosts` — sorted set; member hostId, score the Redis time of its last heartbeat.
* `<prefix>:presence-reaper` — the reaper's short lock.

An entry counts while its host's heartbeat is younger than the TTL. Each process beats every
TTL/3; one process at a time (a short Redis lock) reaps entries of hosts that stopped beating
and announces `userLeft` for users left with no live socket. So a killed process's users leave
within TTL plus one reaping period.

When Redis is unreachable every process keeps answering from its own sockets (a local
`LocalPresence` mirror), and rewrites its entries to Redis once Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from studygroups.realtime.presence import LocalPresence
from studygroups.realtime.redis_pool import POOL_SIZE, waiting_client
from studygroups.services.batching import PerTurn
from studygroups.stopping import stop

log = logging.getLogger("studygroups.presence")


# KEYS: hash, hosts; ARGV: field, userId, ttl → 1 if that was the user's last live socket
_REMOVE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local now = tonumber(redis.call('TIME')[1])
local prefix = ARGV[2] .. '\\n'
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if string.sub(entries[i], 1, #prefix) == prefix then
    local host = string.match(entries[i + 1], '^([^\\n]*)')
    local beat = redis.call('ZSCORE', KEYS[2], host)
    if beat and tonumber(beat) >= now - tonumber(ARGV[3]) then return 0 end
  end
end
return 1
"""

# The entries of KEYS[1] whose host (in sorted set KEYS[hosts]) beat within ARGV[ttl] seconds,
# each host's heartbeat looked up once: appends field, value, … to `out` and returns how many
# of them have a field starting with `prefix` (the user's live sockets; prefix may be nil).
_LIVE_ENTRIES = """
local function live_entries(hash, hosts, ttl, out, prefix)
  local cutoff = tonumber(redis.call('TIME')[1]) - tonumber(ttl)
  local alive = {}
  local mine = 0
  local entries = redis.call('HGETALL', hash)
  for i = 1, #entries, 2 do
    local host = string.match(entries[i + 1], '^([^\\n]*)')
    local live = alive[host]
    if live == nil then
      local beat = redis.call('ZSCORE', hosts, host)
      live = beat ~= false and tonumber(beat) >= cutoff
      alive[host] = live
    end
    if live then
      out[#out + 1] = entries[i]
      out[#out + 1] = entries[i + 1]
      if prefix and string.sub(entries[i], 1, #prefix) == prefix then mine = mine + 1 end
    end
  end
  return mine
end
"""

# KEYS: hash, hosts; ARGV: ttl → [field, value, …] of the live entries (one round trip)
_PRESENT = (
    _LIVE_ENTRIES
    + """
local out = {}
live_entries(KEYS[1], KEYS[2], ARGV[1], out, nil)
return out
"""
)

# KEYS: hash, sessions set, hosts; ARGV: field, value, session, userId, ttl → [first, field,
# value, …]: the socket counted in, then `first` (1 when it is the user's only live socket) and
# everyone present, in one round trip
_ENTER = (
    _LIVE_ENTRIES
    + """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local out = {0}
local mine = live_entries(KEYS[1], KEYS[3], ARGV[5], out, ARGV[4] .. '\\n')
out[1] = mine == 1 and 1 or 0
return out
"""
)

# KEYS: hosts; ARGV: hostId → records a heartbeat at Redis time
_BEAT = """
local now = redis.call('TIME')[1]
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
"""

Expired = Callable[[str, str, str], Awaitable[None]]


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # seen: no "exception was never retrieved" when nobody waits


class RedisPresence:
    """The cluster's presence; `on_expired(session, userId, userName)` announces reaped users."""

    def __init__(
        self,
        url: str,
        ttl_seconds: int,
        on_expired: Expired | None = None,
        *,
        pool_size: int = POOL_SIZE,
        prefix: str = "sg",
    ) -> None:
        self._redis: Redis = waiting_client(
            url,
            pool_size=pool_size,
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
            decode_responses=True,
        )
        self._ttl = ttl_seconds
        self._entries = f"{prefix}:presence:"
        self._sessions = f"{prefix}:presence-sessions"
        self._hosts = f"{prefix}:hosts"
        self._reaper = f"{prefix}:presence-reaper"
        self._host = uuid.uuid4().hex
        self._local = LocalPresence()
        self._names: dict[tuple[str, str, str], str] = {}
        self._enter = self._redis.register_script(_ENTER)
        self._entering: PerTurn[tuple[str, str, str, str], list[Any]] = PerTurn(self._enter_all)
        self._remove = self._redis.register_script(_REMOVE)
        self._beat = self._redis.register_script(_BEAT)
        self._present = self._redis.register_script(_PRESENT)
        self._task: asyncio.Task[None] | None = None
        self._reviving: asyncio.Future[None] | None = None  # see `_ensure_beating`
        self._healthy = False
        self._was_healthy = False  # reached once: a later outage's end is a recovery
        self._said_unreachable = False  # this outage (or the start's) is in the log already
        self.on_expired = on_expired

    @property
    def healthy(self) -> bool:
        return self._healthy

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._heartbeat_forever())

    async def enter(
        self, session_id: str, user_id: str, user_name: str, sid: str
    ) -> tuple[bool, list[dict[str, str]]]:
        self._names[(session_id, user_id, sid)] = user_name
        local = await self._local.enter(session_id, user_id, user_name, sid)
        try:
            await self._ensure_beating()
            first, *flat = await self._entering.ask((session_id, user_id, user_name, sid))
        except RedisError as error:
            self._degraded(error)
            return local
        return bool(first), _people(flat)

    async def _enter_all(self, asks: list[tuple[str, str, str, str]]) -> list[Any]:
        """The `_ENTER` script for each (session, user, name, sid): the joins of one loop turn,
        in one pipeline (one round trip) when there are several (services/batching.py)."""
        calls = []
        for session_id, user_id, user_name, sid in asks:
            keys = [self._entries + session_id, self._sessions, self._hosts]
            args: list[str | int] = [
                f"{user_id}\n{sid}",
                f"{self._host}\n{user_name}",
                session_id,
                user_id,
                self._ttl,
            ]
            calls.append((keys, args))
        if len(calls) == 1:
            keys, args = calls[0]
            return [await self._enter(keys=keys, args=args)]
        answers = await self._enter_pipelined(calls)
        # Redis lost its scripts (a restart, SCRIPT FLUSH): none of those ran. Load, run them.
        missing = [i for i, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
        if missing:
            await self._redis.script_load(_ENTER)
            again = await self._enter_pipelined([calls[i] for i in missing])
            for i, answer in zip(missing, again, strict=True):
                answers[i] = answer
        return answers

    async def _enter_pipelined(self, calls: list[tuple[list[str], list[str | int]]]) -> list[Any]:
        """EVALSHA of `_ENTER` for each call, in one round trip. (redis-py's pipeline asks
        SCRIPT EXISTS first on every execute when given the Script object: a round trip more.)"""
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(self._enter.sha, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))

    async def remove(self, session_id: str, user_id: str, sid: str) -> bool:
        self._names.pop((session_id, user_id, sid), None)
        local_last = await self._local.remove(session_id, user_id, sid)
        try:
            keys = [self._entries + session_id, self._hosts]
            return bool(
                await self._remove(keys=keys, args=[f"{user_id}\n{sid}", user_id, self._ttl])
            )
        except RedisError as error:
            self._degraded(error)
            return local_last

    async def present(self, session_id: str) -> list[dict[str, str]]:
        try:
            flat = await self._present(
                keys=[self._entries + session_id, self._hosts], args=[self._ttl]
            )
        except RedisError as error:
            self._degraded(error)
            return await self._local.present(session_id)
        return _people(flat)

    async def close(self, *, withdraw: bool = True) -> None:
        if self._task is not None:
            await stop(self._task)  # cancelled again if a Redis call swallowed the cancel
            self._task = None
        if not withdraw:  # entries expire with the heartbeat; the reaper announces who left
            await self._redis.aclose()
            return
        with contextlib.suppress(RedisError):
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id, user_id, sid in list(self._names):
                    pipe.hdel(self._entries + session_id, f"{user_id}\n{sid}")
                pipe.zrem(self._hosts, self._host)
                await pipe.execute()
        await self._redis.aclose()

    async def readiness(self) -> str:
        """ "ok" when Redis answers, else "unavailable" (`/readyz`)."""
        try:
            return "ok" if await self._redis.ping() else "unavailable"
        except RedisError:
            return "unavailable"

    # -- heartbeat and reaping ----------------------------------------------------------------

    async def _ensure_beating(self) -> None:
        """Before an enter while Redis has not been reached (the start, or an outage): one
        heartbeat and one write-back at a time, which every enter waiting meanwhile shares.
        Each enter ran its own before, each writing back every entry so far: after a restart,
        n joins arriving together wrote n²/2 entries."""
        if self._healthy:
            return
        if self._reviving is None or self._reviving.done():
            self._reviving = asyncio.ensure_future(self._revive())
            self._reviving.add_done_callback(_retrieved)  # its error reaches the enters
        await asyncio.shield(self._reviving)  # a cancelled enter leaves it to the others

    async def _revive(self) -> None:
        await self._beat(keys=[self._hosts], args=[self._host])
        await self._restore()

    async def _heartbeat_forever(self) -> None:
        period = max(self._ttl / 3.0, 0.5)
        while True:
            try:
                await self._beat(keys=[self._hosts], args=[self._host])
                if not self._healthy:
                    await self._restore()
                await self._reap()
            except RedisError as error:
                self._degraded(error)
            except Exception:
                log.exception("presence heartbeat failed")
            await asyncio.sleep(period)

    async def _restore(self) -> None:
        """After an outage: write back this process's entries, which Redis may have lost."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for (session_id, user_id, sid), name in self._names.items():
                pipe.hset(self._entries + session_id, f"{user_id}\n{sid}", f"{self._host}\n{name}")
                pipe.sadd(self._sessions, session_id)
            await pipe.execute()
        if not self._healthy and self._was_healthy:
            log.info("presence store reachable again; %d entries restored", len(self._names))
        elif not self._healthy:
            log.info("presence store reachable")
        self._healthy = self._was_healthy = True
        self._said_unreachable = False

    def _degraded(self, error: Exception) -> None:
        if self._healthy or not self._said_unreachable:  # once per outage, from the start on
            log.warning("presence store unreachable, answering from this process: %s", error)
            self._said_unreachable = True
        self._healthy = False

    async def _live_hosts(self) -> set[str]:
        now = await self._redis.time()
        alive = await self._redis.zrangebyscore(self._hosts, now[0] - self._ttl, "+inf")
        return {str(host) for host in alive}

    async def _reap(self) -> None:
        """One process at a time: drop entries of dead hosts and announce who left."""
        lease_ms = int(max(self._ttl / 3.0, 0.5) * 1000)
        if not await self._redis.set(self._reaper, self._host, nx=True, px=lease_ms):
            return
        live = await self._live_hosts()
        # hosts long dead (their entries reaped long ago) leave the heartbeat set
        now = await self._redis.time()
        await self._redis.zremrangebyscore(self._hosts, "-inf", now[0] - 10 * self._ttl)
        for raw_session in await self._redis.smembers(self._sessions):
            session_id = str(raw_session)
            entries = await self._redis.hgetall(self._entries + session_id)
            if not entries:
                await self._redis.srem(self._sessions, session_id)
                continue
            await self._reap_session(session_id, entries, live)

    async def _reap_session(self, session_id: str, entries: dict[Any, Any], live: set[str]) -> None:
        dead: dict[str, str] = {}
        staying: set[str] = set()
        for field, value in entries.items():
            user_id = str(field).split("\n", 1)[0]
            host, _, name = str(value).partition("\n")
            if host in live:
                staying.add(user_id)
            else:
                dead[str(field)] = name
        if not dead:
            return
        await self._redis.hdel(self._entries + session_id, *dead)
        gone = {f.split("\n", 1)[0]: name for f, name in dead.items()}
        for user_id, name in gone.items():
            if user_id not in staying and self.on_expired is not None:
                log.info("User %s left session %s (their process stopped)", user_id, session_id)
                await self.on_expired(session_id, user_id, name)


def _people(flat: list[Any]) -> list[dict[str, str]]:
    """[field, value, …] of live entries → [{userId, userName}] by userId, once per user."""
    people: dict[str, str] = {}
    for field, value in zip(flat[::2], flat[1::2], strict=True):
        people[str(field).split("\n", 1)[0]] = str(value).partition("\n")[2]
    return [{"userId": user_id, "userName": people[user_id]} for user_id in sorted(people)]
