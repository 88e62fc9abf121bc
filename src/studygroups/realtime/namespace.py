"""The /study-groups namespace: authentication, rooms, presence, typing and read receipts.

Handlers are thin: parse the payload, call a use case (services/rooms.py, services/chat.py),
answer an ack. A refused or malformed event never disconnects the socket or joins a room; its
ack says why. The connection registry is realtime/registry.py.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import socketio

from studygroups.domain.errors import DomainError, RateLimited, Unauthenticated
from studygroups.identity import TokenCache
from studygroups.metrics import Metrics
from studygroups.ratelimit import LIMITS, RateLimiter
from studygroups.realtime.admission import Admission
from studygroups.realtime.codecs import codec_for_path
from studygroups.realtime.expiry import ExpiryTimers, expires_iso
from studygroups.realtime.payloads import (
    ack_error,
    is_typing_of,
    last_seq_of,
    message_id_of,
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
from studygroups.realtime.registry import Client, Connections
from studygroups.realtime.server import local_emit
from studygroups.services import chat
from studygroups.services.feed import EventFeed
from studygroups.services.presence import Presence
from studygroups.services.rooms import Joined, ReplayBudget, SessionRooms
from studygroups.services.unit_of_work import UnitOfWorkFactory
from studygroups.services.users import UserDirectory

log = logging.getLogger("studygroups.realtime")

# Sockets still arriving (`Gateway.settling`): SETTLING_COUNT CONNECTs within SETTLING_SECONDS
# (40/s: a restart's storm, not a busy server's steady arrivals), or as many joins at once.
SETTLING_COUNT = 8
SETTLING_SECONDS = 0.2
TOO_MANY_SOCKETS = "Too many connections for this user"  # no "token": clients must not refresh
EVENTS = ("joinSession", "leaveSession", "typing", "markRead", "refreshToken")


def join_ack(joined: Joined) -> dict[str, Any]:
    """`joinSession`'s ack (API.md §7): the head, `missed` (or `resync`) when lastSeq was sent,
    and who is present."""
    ack: dict[str, Any] = {"success": True, "sessionId": joined.session_id, "seq": joined.head}
    if joined.replay is not None:
        if joined.replay.resync is not None:
            ack["resync"] = True
        ack["missed"] = [e.as_json() for e in joined.replay.events]
    ack["presence"] = joined.presence
    return ack


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
        admission: Admission | None = None,
    ) -> None:
        super().__init__(NAMESPACE)
        self._tokens = tokens or TokenCache()
        self._admission = admission or Admission()
        self._secret = jwt_secret
        self._units = units
        self._users = users
        self._sequencer = sequencer
        self._metrics = metrics
        self._max_sockets_per_user = max_sockets_per_user
        self._expiry = ExpiryTimers(self._expire)
        self._clients = Connections()
        self._arrivals: deque[float] = deque(maxlen=SETTLING_COUNT)  # the last CONNECTs' times
        self._rooms = SessionRooms(
            feed=feed,
            presence=presence,
            lanes=sequencer,
            rooms=self,
            metrics=metrics,
            budget=ReplayBudget(max_events=replay_limit, max_bytes=replay_max_bytes),
        )
        # Limits of client events, checked before their handler runs: per socket, and per user
        # across their sockets and reconnects (reconnecting refills only the socket's).
        self._limits = {
            "joinSession": (RateLimiter(LIMITS["join"]), RateLimiter(LIMITS["join_user"])),
            "markRead": (RateLimiter(LIMITS["socket"]), RateLimiter(LIMITS["socket_user"])),
        }

    # -- connection ---------------------------------------------------------------------------

    def settling(self) -> bool:
        """Sockets are arriving in numbers: SETTLING_COUNT CONNECTs (refused ones too) within
        the last SETTLING_SECONDS, or as many joins in progress, or WebSocket upgrades waiting
        to be let in (realtime/admission.py). After a restart, api/deferred.py waits for this
        to end."""
        if self._admission.waiting:
            return True
        arrivals = self._arrivals
        burst = len(arrivals) == SETTLING_COUNT
        if burst and time.monotonic() - arrivals[0] < SETTLING_SECONDS:
            return True
        return self._rooms.joining >= SETTLING_COUNT

    async def on_connect(self, sid: str, environ: Mapping[str, Any], auth: Any = None) -> None:
        self._arrivals.append(time.monotonic())
        try:
            verified = self._tokens.verify(token_of(environ, auth), self._secret)
        except Unauthenticated as error:
            raise socketio.exceptions.ConnectionRefusedError(error.message) from None
        identity = verified.identity
        self._refuse_if_too_many(identity.user_id)  # before any work for this connection
        # Name and email recorded shortly, in a batch; the CONNECT never waits for the database
        # (an answer that never comes leaves socket.io-client waiting forever).
        self._users.remember_soon(identity)
        if not self._transport_open(sid):
            # python-socketio would never send this socket's disconnect: take nothing for it.
            raise socketio.exceptions.ConnectionRefusedError("disconnected while connecting")
        self._refuse_if_too_many(identity.user_id)  # counted and taken with no await between
        self._clients.add(sid, identity)
        self._expiry.arm(sid, verified.expires_at)
        await self.enter_room(sid, f"user:{identity.user_id}")
        self._metrics.connections.inc()
        parser = codec_for_path(str(environ.get("PATH_INFO", ""))).name
        log.info("Client connected: %s, User: %s, parser: %s", sid, identity.user_id, parser)

    def _transport_open(self, sid: str) -> bool:
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        socket = self.server.eio.sockets.get(eio_sid)
        return socket is not None and not socket.closed

    def _refuse_if_too_many(self, user_id: str) -> None:
        """MAX_SOCKETS_PER_USER, counted over this process's sockets."""
        if self._clients.count(user_id) >= self._max_sockets_per_user:
            self._metrics.sockets_refused_per_user.inc()
            log.info("Refused a connection of user %s: too many sockets", user_id)
            raise socketio.exceptions.ConnectionRefusedError(TOO_MANY_SOCKETS)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._expiry.disarm(sid)
        client = self._clients.detach(sid)
        if client is None:
            return
        # A socket closed by a shutdown is a restart, not its user leaving: presence entries
        # stay to expire with this process's heartbeat, so a user back within the TTL never
        # seems to leave (and one who is not back leaves then, announced by the reaper).
        draining = bool(getattr(self.server.eio, "draining", False))
        await self._rooms.leave_all(client, announce=not draining)
        self._clients.forget(client)
        for per_socket, _ in self._limits.values():
            per_socket.forget(sid)
        self._metrics.connections.dec()
        log.info(
            "Client disconnected: %s, User: %s, reason: %s", sid, client.identity.user_id, reason
        )

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Every client event passes here: unknown ones are refused, per-socket limits checked,
        errors become acks."""
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        handler = getattr(self, f"on_{event}", None)
        if handler is None or event not in EVENTS:
            return {
                "success": False,
                "error": {"code": "BAD_REQUEST", "message": f"unknown event {event!r}"},
            }
        sid, data = args[0], (args[1] if len(args) > 1 else None)
        client = self._clients.get(sid)
        if client is None:
            return ack_error(Unauthenticated("not connected"))
        limits = self._limits.get(event)
        if limits is not None and not (
            limits[0].allow(sid) and limits[1].allow(client.identity.user_id)
        ):
            return ack_error(RateLimited(f"too many {event} requests; slow down"))
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
        # A new client holds its place among those arriving until its first join is answered
        # (realtime/admission.py); later joins find no place held.
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        self._admission.joining(eio_sid)
        try:
            payload = payload_of(data)
            joined = await self._rooms.join(client, session_id_of(payload), last_seq_of(payload))
        finally:
            self._admission.release(eio_sid)
        return join_ack(joined)  # nothing awaits from the lane lock's release to the ack

    async def on_leaveSession(self, sid: str, client: Client, data: Any) -> dict[str, Any]:  # noqa: N802
        session_id = session_id_of(payload_of(data))
        await self._rooms.leave(client, session_id)
        return {"success": True, "sessionId": session_id}

    # -- ephemeral signals --------------------------------------------------------------------

    async def on_typing(self, sid: str, client: Client, data: Any) -> dict[str, Any]:
        payload = payload_of(data)
        await self._rooms.typing(client, session_id_of(payload), is_typing_of(payload))
        return {"success": True}

    async def on_markRead(self, sid: str, client: Client, data: Any) -> dict[str, Any]:  # noqa: N802
        payload = payload_of(data)
        session_id, message_id = session_id_of(payload), message_id_of(payload)
        read = await chat.mark_read_live(self._units, self, client.identity, session_id, message_id)
        return {"success": True, "sessionId": read.session_id, "messageId": read.message_id}

    async def announce_left(self, session_id: str, user_id: str, user_name: str) -> None:
        """A user whose process died without saying goodbye: tell the room they left."""
        await self._rooms.announce_left(session_id, user_id, user_name)

    # -- services/rooms.py `Rooms`: what the use cases ask of the transport -------------------

    def is_connected(self, sid: str) -> bool:
        return sid in self._clients

    # A session room holds this process's sockets only, entered and left here: through the
    # manager's local bookkeeping, since python-socketio's pub/sub manager publishes the change
    # to every process for a socket it does not see connected (one being disconnected).
    async def enter_session_room(self, sid: str, session_id: str) -> None:
        self.server.manager.basic_enter_room(sid, self.namespace, room_of(session_id))

    async def leave_session_room(self, sid: str, session_id: str) -> None:
        self.server.manager.basic_leave_room(sid, self.namespace, room_of(session_id))

    async def signal(self, event: str, session_id: str, user_id: str, data: dict[str, Any]) -> None:
        """An ephemeral event to the others in the room: not logged, no seq. It travels as an
        internal message to every process (this one included), and each skips its own sockets
        of the acting user: a room emit's skip list could only name this process's sockets."""
        data["timestamp"] = now_iso()
        message = {"event": event, "sessionId": session_id, "userId": user_id, "data": data}
        await self.emit(SIGNAL, message, room=room_of(session_id))

    async def _deliver_signal(self, message: Mapping[str, Any]) -> None:
        """A signal of any process, this one's included, to this process's sockets in the room
        (the joins in progress of the session hear it too: services/rooms.py `heard`)."""
        event, session_id, user_id = (
            str(message["event"]),
            str(message["sessionId"]),
            str(message["userId"]),
        )
        self._rooms.heard(event, session_id, user_id, message["data"])
        skip = self._clients.sids_of(user_id)
        await local_emit(self.server, event, message["data"], room_of(session_id), skip)

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
        await self._rooms.revoke(user_id, session_ids)  # joins in progress refuse or land first
        for sid in self._clients.sids_of(user_id):
            client = self._clients.get(sid)
            if client is not None:
                for session_id in session_ids:
                    await self._rooms.leave(client, session_id)
