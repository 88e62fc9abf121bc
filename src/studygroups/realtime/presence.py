"""Who is in a session room, counted over each user's sockets (multi-tab)."""

from __future__ import annotations


class LocalPresence:
    """One process: a dict per session of user → (name, sockets)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, tuple[str, set[str]]]] = {}

    async def add(self, session_id: str, user_id: str, user_name: str, sid: str) -> bool:
        room = self._rooms.setdefault(session_id, {})
        _, sockets = room.get(user_id, (user_name, set()))
        first = not sockets
        sockets.add(sid)
        room[user_id] = (user_name, sockets)
        return first

    async def enter(
        self, session_id: str, user_id: str, user_name: str, sid: str
    ) -> tuple[bool, list[dict[str, str]]]:
        first = await self.add(session_id, user_id, user_name, sid)
        return first, await self.present(session_id)

    async def remove(self, session_id: str, user_id: str, sid: str) -> bool:
        room = self._rooms.get(session_id)
        if room is None or user_id not in room:
            return False
        _, sockets = room[user_id]
        if sid not in sockets:
            return False
        sockets.discard(sid)
        if sockets:
            return False
        del room[user_id]
        if not room:
            del self._rooms[session_id]
        return True

    async def present(self, session_id: str) -> list[dict[str, str]]:
        room = self._rooms.get(session_id, {})
        return [{"userId": user_id, "userName": room[user_id][0]} for user_id in sorted(room)]

    async def close(self, *, withdraw: bool = True) -> None:
        self._rooms.clear()
