"""The connection registry of /study-groups: this process's sockets, by sid and by user."""

from __future__ import annotations

from dataclasses import dataclass, field

from studygroups.identity import Identity


@dataclass
class Client:
    """One connected socket: who it is (a refreshed token may replace it) and its rooms."""

    sid: str
    identity: Identity
    sessions: set[str] = field(default_factory=set)


class Connections:
    """Connected sockets of this process, by sid and by user (MAX_SOCKETS_PER_USER, the skip
    list of a signal, evictions)."""

    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._by_user: dict[str, set[str]] = {}

    def __contains__(self, sid: str) -> bool:
        return sid in self._clients

    def get(self, sid: str) -> Client | None:
        return self._clients.get(sid)

    def count(self, user_id: str) -> int:
        return len(self._by_user.get(user_id, ()))

    def sids_of(self, user_id: str) -> list[str]:
        return list(self._by_user.get(user_id, ()))

    def add(self, sid: str, identity: Identity) -> Client:
        client = self._clients[sid] = Client(sid, identity)
        self._by_user.setdefault(identity.user_id, set()).add(sid)
        return client

    def detach(self, sid: str) -> Client | None:
        """A disconnecting socket: no longer found by sid, still counted for its user (its
        leaves still skip it, and its user's count still holds it) until `forget`."""
        return self._clients.pop(sid, None)

    def forget(self, client: Client) -> None:
        sids = self._by_user.get(client.identity.user_id)
        if sids is not None:
            sids.discard(client.sid)
            if not sids:
                del self._by_user[client.identity.user_id]
