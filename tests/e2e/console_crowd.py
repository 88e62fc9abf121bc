"""A crowd of session members in their own process, for the console's 300-member load test
(tests/e2e/test_console_load.py): each member is a python-socketio client joined to the
session (so the server fans every event out to all of them) that types, chats and votes over
REST at a random moment of the load window, as a class does.

    python -m tests.e2e.console_crowd URL GROUP_ID SESSION_ID MEMBERS CHATTERS SECONDS

It prints `joined N` once every member has joined, waits for `go` on stdin, runs the window,
prints `done dropped=K` (K: sockets the server had closed by then), and disconnects everyone
on `stop` (or at the end of stdin). It runs apart from the server and the browser so that
decoding 300 sockets' frames competes with neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import uuid
from typing import Any

import httpx
import socketio

from tests.conftest import token

NAMESPACE = "/study-groups"
OPTIONS = ("A", "B", "C", "D")


def member_ids(count: int) -> list[str]:
    return [f"m{i:03d}" for i in range(1, count + 1)]


class Member:
    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.jwt = token(user_id)
        self.sio: Any = socketio.AsyncClient(reconnection=False)

    async def join(self, url: str, session_id: str) -> None:
        await self.sio.connect(
            url,
            auth={"token": self.jwt},
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=30,
        )
        ack = await self.sio.call(
            "joinSession", {"sessionId": session_id}, namespace=NAMESPACE, timeout=30
        )
        if not (isinstance(ack, dict) and ack.get("success")):
            raise RuntimeError(f"{self.user_id} could not join: {ack}")

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected) and NAMESPACE in self.sio.namespaces

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        """A socket the server closed (on a starved machine, for reading too slowly) sends
        nothing more; the member still chats and votes over REST."""
        if self.connected:
            with contextlib.suppress(socketio.exceptions.BadNamespaceError):
                await self.sio.emit(event, data, namespace=NAMESPACE)

    async def post(self, http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
        """A write with an Idempotency-Key, sent again when the connection broke (a pooled
        connection the server closed as idle, or a starved machine): done exactly once."""
        headers = {"Authorization": f"Bearer {self.jwt}", "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(5):
            try:
                answer = await http.post(path, json=body, headers=headers)
                answer.raise_for_status()
                return answer.json()
            except httpx.TransportError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        return None

    async def act(
        self,
        http: httpx.AsyncClient,
        paths: tuple[str, str],
        session_id: str,
        *,
        at: float,
        chats: bool,
    ) -> None:
        """Typing, then (for a chatter) a message and a read receipt, then a vote."""
        await asyncio.sleep(at)
        await self.emit("typing", {"sessionId": session_id, "isTyping": True})
        await asyncio.sleep(0.5)
        chat_path, events_path = paths
        if chats:
            body = {"round_index": 1, "message": f"{self.user_id} thinks {OPTIONS[int(at) % 4]}"}
            sent = await self.post(http, chat_path, body)
            await self.emit("markRead", {"sessionId": session_id, "messageId": sent["id"]})
        vote = {
            "round_index": 1,
            "event_type": "PI_VOTE_SUBMIT",
            "payload": {"choice": random.choice(OPTIONS)},
        }
        await self.post(http, events_path, vote)


async def line() -> str:
    read: str = await asyncio.to_thread(sys.stdin.readline)
    return read.strip()


async def main(
    url: str, group_id: str, session_id: str, count: int, chatters: int, seconds: float
) -> None:
    random.seed(300)
    crowd = [Member(user_id) for user_id in member_ids(count)]
    for start in range(0, count, 25):  # joins come 10 at once per socket, never per server
        await asyncio.gather(*(m.join(url, session_id) for m in crowd[start : start + 25]))
    print(f"joined {count}", flush=True)
    paths = (
        f"/groups/{group_id}/sessions/{session_id}/chat",
        f"/group-sessions/{session_id}/events",
    )
    try:
        if await line() == "go":
            limits = httpx.Limits(max_connections=50)
            async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
                await asyncio.gather(
                    *(
                        m.act(
                            http,
                            paths,
                            session_id,
                            at=random.uniform(0, seconds),
                            chats=i < chatters,
                        )
                        for i, m in enumerate(crowd)
                    )
                )
            print(f"done dropped={sum(not m.connected for m in crowd)}", flush=True)
            await line()  # "stop"
    finally:
        await asyncio.gather(*(m.sio.disconnect() for m in crowd), return_exceptions=True)


if __name__ == "__main__":
    base, group, session, members, talkers, window = sys.argv[1:7]
    asyncio.run(main(base, group, session, int(members), int(talkers), float(window)))
