"""The /study-groups namespace: authentication, rooms, presence, typing and read receipts.

Handlers are thin: validate the payload, ask a service, answer an ack. A refused or malformed
event never disconnects the socket or joins a room; its ack says why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import socketio

from studygroups.domain.errors import DomainError, Forbidden, Invalid, RateLimited, Unauthenticated
from studygroups.identity import Identity, TokenCache
from studygroups.metrics import Metrics
from studygroups.ratelimit import LIMITS, RateLimiter
from studygroups.realtime.expiry import ExpiryTimers, expires_iso
from studygroups.realtime.payloads import (
    ack_error,
    last_seq_of,
    now_iso,
    payload_of,
    refresh_token_of,
    session_id_of,
    token_of,
)
from studygroups.realtime.publisher import (
    DURABLE,
    EVICT,
    NAMESPACE,
    SIGNAL,
    Sequencer,
    decode,
    room_of,
)
from studygroups.realtime.server import local_emit
from studygroups.services import chat
from studygroups.services.feed import EventFeed
from studygroups.services.presence import Presence
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.services.users import UserDirectory

log = logging.getLogger("studygroups.realtime")

TOO_MANY_SOCKETS = "Too many connections for this user"  # no "token": clients must not refresh


@dataclass
class Client:
    identity: Identity
    sessions: set[str] = field(default_factory=set)


class Gateway(socketio.AsyncNamespace):  # type: ignore[misc]
    """Socket.IO handlers of /study-groups; `on_<event>` methods are the client events."""

    def __init__(
        self,
        *,
        jwt_secret: str,
        units: UnitOfWorkFactory,
        feed: EventFeed,
        users: UserDirectory,
        presence: Presence,
        sequencer: Sequencer,
        metrics: Metrics,
        replay_limit: int,
        replay_max_bytes: int,
        max_sockets_per_user: int,
        tokens: TokenCache | None = None,
    ) -> None:
        super().__init__(NAMESPACE)
        self._tokens = tokens or TokenCache()
        self._secret = jwt_secret
        self._units = units
        self._feed = feed
        self._users = users
        self._presence = presence
        self._sequencer = sequencer
        self._metrics = metrics
        self._replay_limit = replay_limit
        self._replay_max_bytes = replay_max_bytes
        self._max_sockets_per_user = max_sockets_per_user
        self._expiry = ExpiryTimers(self._expire)
        self._clients: dict[str, Client] = {}
        self._by_user: dict[str, set[str]] = {}
        self._typing = RateLimiter(LIMITS["typing"])
        self._joins = RateLimiter(LIMITS["join"])
        self._small = RateLimiter(LIMITS["socket"])

    # -- connection ---------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: Mapping[str, Any], auth: Any = None) -> None:
        try:
            verified = self._tokens.verify(token_of(environ, auth), self._secret)
        except Unauthenticated as error:
            raise socketio.exceptions.ConnectionRefusedError(error.message) from None
        identity = verified.identity
        self._refuse_if_too_many(identity.user_id)  # before any work for this connection
        await self._users.remember(identity)
        if not self._transport_open(sid):
            # python-socketio would never send this socket's disconnect: take nothing for it.
            raise socketio.exceptions.ConnectionRefusedError("disconnected while connecting")
        self._refuse_if_too_many(identity.user_id)  # counted and taken with no await between
        self._clients[sid] = Client(identity)
        self._by_user.setdefault(identity.user_id, set()).add(sid)
        self._expiry.arm(sid, verified.expires_at)
        await self.enter_room(sid, f"user:{identity.user_id}")
        self._metrics.connections.inc()
        log.info("Client connected: %s, User: %s", sid, identity.user_id)

    def _transport_open(self, sid: str) -> bool:
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        socket = self.server.eio.sockets.get(eio_sid)
        return socket is not None and not socket.closed

    def _refuse_if_too_many(self, user_id: str) -> None:
        """MAX_SOCKETS_PER_USER, counted over this process's sockets."""
        if len(self._by_user.get(user_id, ())) >= self._max_sockets_per_user:
            self._metrics.sockets_refused_per_user.inc()
            log.info("Refused a connection of user %s: too many sockets", user_id)
            raise socketio.exceptions.ConnectionRefusedError(TOO_MANY_SOCKETS)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._expiry.disarm(sid)
        client = self._clients.pop(sid, None)
        if client is None:
            return
        for session_id in list(client.sessions):
            await self._leave(sid, client, session_id)
        sids = self._by_user.get(client.identity.user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._by_user[client.identity.user_id]
        self._joins.forget(sid)
        self._small.forget(sid)
        self._metrics.connections.dec()
        log.info(
            "Client disconnected: %s, User: %s, reason: %s", sid, client.identity.user_id, reason
        )

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Every client event passes here: unknown ones are refused, errors become acks."""
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        handler = getattr(self, f"on_{event}", None)
        if handler is None or event not in (
            "joinSession",
            "leaveSession",
            "typing",
            "markRead",
            "refreshToken",
        ):
            return {
                "success": False,
                "error": {"code": "BAD_REQUEST", "message": f"unknown event {event!r}"},
            }
        sid, data = args[0], (args[1] if len(args) > 1 else None)
        client = self._clients.get(sid)
        if client is None:
            return ack_error(Unauthenticated("not connected"))
        try:
            return await handler(sid, client, data)
        except DomainError as error:
            return ack_error(error)
        except Exception:
            log.exception("handler %s failed for %s", event, sid)
            return {
                "success": False,
                "error": {"code": "INTERNAL", "message": "the server failed; retry"},
            }

    # -- tokens on live sockets (API.md §7, docs/realtime.md) ----------------------------------

    async def on_refreshToken(self, sid: str, client: Client, data: Any) -> dict[str, Any]:  # noqa: N802
        """A valid token of the same user replaces the socket's token and re-arms its expiry;
        anything else is UNAUTHORIZED and changes nothing."""
        try:
            verified = self._tokens.verify(refresh_token_of(data), self._secret)
            if verified.identity.user_id != client.identity.user_id:
                raise Unauthenticated("the token is for another user")
        except Unauthenticated:
            self._metrics.tokens_refreshed.labels("refused").inc()
            raise
        identity = verified.identity
        if identity != client.identity:
            await self._users.remember(identity)  # a new name or email, as on first sight
            if self._clients.get(sid) is not client:
                raise Unauthenticated("disconnected while refreshing")
            client.identity = identity
        self._expiry.arm(sid, verified.expires_at)
        self._metrics.tokens_refreshed.labels("accepted").inc()
        log.info("Token refreshed: %s, User: %s", sid, identity.user_id)
        return {"success": True, "expiresAt": expires_iso(verified.expires_at)}

    async def _expire(self, sid: str) -> None:
        """The socket's token expired: say so to the socket, then disconnect it."""
        client = self._clients.get(sid)
        if client is None:
            return
        self._metrics.tokens_expired.inc()
        log.info("Token expired: %s, User: %s", sid, client.identity.user_id)
        try:
            await local_emit(self.server, "auth.expired", {"timestamp": now_iso()}, sid, None)
            await self.disconnect(sid)
        except Exception:
            log.exception("could not disconnect %s after its token expired", sid)

    # -- rooms --------------------------------------------------------------------------------

    async def on_joinSession(self, sid: str, client: Client, data: Any) -> dict[str, Any]:  # noqa: N802
        if not self._joins.allow(sid):
            raise RateLimited("too many joinSession requests; slow down")
        payload = payload_of(data)
        session_id = session_id_of(payload)
        last_seq = last_seq_of(payload)
        identity = client.identity
        async with self._sequencer.locked(session_id) as lane:
            # Checked under the lane lock, which evictions wait for: a removal committed before
            # this check refuses the join; one committed after it evicts this socket. The same
            # read gives the log's head.
            head = await self._feed.authorize_join(identity, session_id)
            head = await self._sequencer.catch_up(session_id, lane, head)
            if sid not in self._clients:
                return ack_error(Unauthenticated("disconnected while joining"))
            newly = session_id not in client.sessions
            if newly:
                await self.enter_room(sid, room_of(session_id))
                client.sessions.add(session_id)
                self._sequencer.joined(session_id)
            ack: dict[str, Any] = {"success": True, "sessionId": session_id, "seq": head}
            if last_seq is not None:
                replay = await self._feed.replay(
                    session_id,
                    last_seq,
                    head,
                    max_events=self._replay_limit,
                    max_bytes=self._replay_max_bytes,
                )
                if replay.resync is not None:
                    ack["resync"] = True
                    if replay.resync == "bytes":
                        self._metrics.replays_over_budget.inc()
                ack["missed"] = [e.as_json() for e in replay.events]
            # Still under the lock, and nothing awaits between releasing it and the ack being
            # queued: no live event after `head` can reach this socket before its ack.
            user_id, name = identity.user_id, identity.name
            first = newly and await self._presence.add(session_id, user_id, name, sid)
            if newly and session_id not in client.sessions:
                # Left or disconnected while joining: _leave could not count it out yet.
                await self._presence.remove(session_id, user_id, sid)
                first = False
            if first:
                await self._signal(
                    "userJoined",
                    session_id,
                    user_id,
                    {"sessionId": session_id, "userId": user_id, "userName": name},
                )
            ack["presence"] = await self._presence.present(session_id)
        self._metrics.rooms.set(self._sequencer.rooms)
        log.info("User %s joined session %s", identity.user_id, session_id)
        return ack

    async def on_leaveSession(self, sid: str, client: Client, data: Any) -> dict[str, Any]:  # noqa: N802
        session_id = session_id_of(payload_of(data))
        await self._leave(sid, client, session_id)
        return {"success": True, "sessionId": session_id}

    async def _leave(self, sid: str, client: Client, session_id: str) -> None:
        if session_id not in client.sessions:
            return
        client.sessions.discard(session_id)
        await self.leave_room(sid, room_of(session_id))
        self._sequencer.left(session_id)
        self._metrics.rooms.set(self._sequencer.rooms)
        identity = client.identity
        log.info("User %s left session %s", identity.user_id, session_id)
        if await self._presence.remove(session_id, identity.user_id, sid):
            await self._signal(
                "userLeft",
                session_id,
                identity.user_id,
                {"sessionId": session_id, "userId": identity.user_id, "userName": identity.name},
            )

    # -- ephemeral signals --------------------------------------------------------------------

    async def on_typing(self, sid: str, client: Client, data: Any) -> dict[str, Any]:
        payload = payload_of(data)
        session_id = session_id_of(payload)
        is_typing = payload.get("isTyping")
        if not isinstance(is_typing, bool):
            raise Invalid("isTyping must be a boolean")
        if session_id not in client.sessions:
            raise Forbidden("join the session before sending typing")
        identity = client.identity
        if not self._typing.allow((identity.user_id, session_id)):
            raise RateLimited("typing is relayed at most once per 250 ms")
        await self._signal(
            "chat.typing",
            session_id,
            identity.user_id,
            {
                "sessionId": session_id,
                "userId": identity.user_id,
                "userName": identity.name,
                "isTyping": is_typing,
            },
        )
        return {"success": True}

    async def on_markRead(self, sid: str, client: Client, data: Any) -> dict[str, Any]:  # noqa: N802
        if not self._small.allow(sid):
            raise RateLimited("too many markRead requests; slow down")
        payload = payload_of(data)
        session_id = session_id_of(payload)
        message_id = payload.get("messageId")
        if not isinstance(message_id, str) or not 1 <= len(message_id) <= 64:
            raise Invalid("messageId must be a string of 1..64 characters")
        identity = client.identity
        async with self._units() as uow:
            cursor = await chat.mark_read(uow, identity, session_id, message_id)
            await uow.commit()
        await self._signal(
            "chat.read",
            session_id,
            identity.user_id,
            {
                "sessionId": session_id,
                "userId": identity.user_id,
                "messageId": cursor["message_id"],
            },
        )
        return {"success": True, "sessionId": session_id, "messageId": cursor["message_id"]}

    async def announce_left(self, session_id: str, user_id: str, user_name: str) -> None:
        """A user whose process died without saying goodbye: tell the room they left."""
        await self._signal(
            "userLeft",
            session_id,
            user_id,
            {"sessionId": session_id, "userId": user_id, "userName": user_name},
        )

    async def _signal(
        self, event: str, session_id: str, user_id: str, data: dict[str, Any]
    ) -> None:
        """An ephemeral event to the others in the room: not logged, no seq. It travels as an
        internal message to every process (this one included), and each skips its own sockets
        of the acting user: a room emit's skip list could only name this process's sockets."""
        data["timestamp"] = now_iso()
        message = {"event": event, "sessionId": session_id, "userId": user_id, "data": data}
        await self.emit(SIGNAL, message, room=room_of(session_id))

    async def _deliver_signal(self, message: Mapping[str, Any]) -> None:
        skip = list(self._by_user.get(str(message["userId"]), ()))
        room = room_of(str(message["sessionId"]))
        await local_emit(self.server, str(message["event"]), message["data"], room, skip)

    # -- internal messages from the manager ---------------------------------------------------

    async def on_internal(self, event: str, data: Any) -> None:
        if event == DURABLE:
            session_id = str(data["sessionId"])
            await self._sequencer.deliver(
                session_id, [decode(session_id, e) for e in data["events"]]
            )
        elif event == EVICT:
            await self.evict(str(data["userId"]), [str(s) for s in data["sessionIds"]])
        elif event == SIGNAL:
            await self._deliver_signal(data)

    async def evict(self, user_id: str, session_ids: list[str]) -> None:
        """Membership was revoked: this process's sockets of the user leave those rooms now."""
        for session_id in session_ids:
            await self._sequencer.settled(session_id)  # joins checked before the removal land
        for sid in list(self._by_user.get(user_id, ())):
            client = self._clients.get(sid)
            if client is None:
                continue
            for session_id in session_ids:
                await self._leave(sid, client, session_id)
