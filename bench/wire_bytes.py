"""Bytes per delivered `chat.message`, JSON vs msgpack: `python bench/wire_bytes.py [--posts N]`.

Starts `studygroups serve` on a fresh SQLite file, makes a started session, and logs one
WebSocket listener in on each endpoint (/socket.io/ JSON, /socket.io-msgpack/ msgpack), both
joined to the session. It posts N chat messages of varied length over REST and counts, for
each listener, the bytes of every `chat.message` it receives: on a WebSocket (the frame: header
plus Engine.IO packet) and, computed from the same packet, in a long-polling response (JSON as
text, msgpack as "b" + base64). Prints the means and the msgpack/JSON ratios. Figures, never
asserts (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import msgpack

from studygroups.identity import mint_token

SECRET = "bench-secret-that-is-long-enough-for-hs256"
NS = "/study-groups"
SERVE = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "studygroups"
TEXTS = (
    "ok",
    "I think it's B",
    "Why would the current drop when the resistor is in parallel?",
    "Because the total resistance goes down, so by Ohm's law the current through the source "
    "goes up, not down; the branch current is what changes.",
)


def _auth(user: str) -> dict[str, str]:
    token = mint_token(SECRET, user, user.capitalize(), f"{user}@example.org", None)
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ws_frame_bytes(payload_length: int) -> int:
    """A server's (unmasked) WebSocket frame: 2-byte header, longer lengths extended."""
    if payload_length < 126:
        return 2 + payload_length
    if payload_length < 1 << 16:
        return 4 + payload_length
    return 10 + payload_length


async def _session(http: httpx.AsyncClient) -> tuple[str, str]:
    made = await http.post("/groups", json={"name": "wire"}, headers=_auth("ana"))
    group_id = str(made.json()["id"])
    for user in ("bo", "cy"):
        await http.post(
            f"/groups/{group_id}/members/invite",
            json={"user_id": user, "role": "MEMBER"},
            headers=_auth("ana"),
        )
        await http.post(f"/groups/{group_id}/members/accept", headers=_auth(user))
    created = await http.post(
        f"/group-sessions?groupId={group_id}", json={"rounds_count": 1}, headers=_auth("ana")
    )
    session: dict[str, Any] = created.json()
    facilitator = next(m["user_id"] for m in session["members"] if m["role"] == "FACILITATOR")
    await http.put(f"/group-sessions/{session['id']}/start", headers=_auth(str(facilitator)))
    return group_id, str(session["id"])


class Listener:
    """A WebSocket on one endpoint, joined to the session, measuring chat.message sizes."""

    def __init__(self, http: aiohttp.ClientSession, url: str, parser: str) -> None:
        self.http, self.url, self.parser = http, url, parser
        self.websocket: list[int] = []
        self.polling: list[int] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self, user: str, session_id: str) -> None:
        path = "/socket.io-msgpack/" if self.parser == "msgpack" else "/socket.io/"
        url = self.url.replace("http", "ws") + f"{path}?EIO=4&transport=websocket"
        self.ws = ws = await self.http.ws_connect(url)
        await ws.receive_str()  # OPEN
        token = _auth(user)["Authorization"][len("Bearer ") :]
        join = ["joinSession", {"sessionId": session_id}]
        if self.parser == "msgpack":
            await ws.send_bytes(msgpack.packb({"type": 0, "nsp": NS, "data": {"token": token}}))
            await ws.receive()  # CONNECT answer
            await ws.send_bytes(msgpack.packb({"type": 2, "nsp": NS, "id": 1, "data": join}))
        else:
            await ws.send_str(f"40{NS}," + json.dumps({"token": token}))
            await ws.receive()
            await ws.send_str(f"42{NS},1" + json.dumps(join))

    async def read(self, count: int) -> None:
        assert self.ws is not None
        while len(self.websocket) < count:
            message = await self.ws.receive(timeout=30)
            if message.type == aiohttp.WSMsgType.BINARY:
                packet = msgpack.unpackb(message.data)
                if packet.get("type") == 2 and packet["data"][0] == "chat.message":
                    self.websocket.append(_ws_frame_bytes(len(message.data)))
                    self.polling.append(1 + len(base64.b64encode(message.data)))
            elif message.type == aiohttp.WSMsgType.TEXT:
                text = str(message.data)
                if text == "2":
                    await self.ws.send_str("3")
                elif text.startswith(f'42{NS},["chat.message"'):
                    size = len(text.encode())
                    self.websocket.append(_ws_frame_bytes(size))
                    self.polling.append(size)
            else:
                raise ConnectionError(f"closed: {message.type}")


async def measure(url: str, posts: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as rest, aiohttp.ClientSession() as http:
        group_id, session_id = await _session(rest)
        listeners = [Listener(http, url, "json"), Listener(http, url, "msgpack")]
        for listener, user in zip(listeners, ("bo", "cy"), strict=True):
            await listener.open(user, session_id)
        readers = [asyncio.create_task(listener.read(posts)) for listener in listeners]
        for n in range(posts):
            response = await rest.post(
                f"/groups/{group_id}/sessions/{session_id}/chat",
                json={"round_index": 1, "message": TEXTS[n % len(TEXTS)]},
                headers=_auth("ana"),
            )
            response.raise_for_status()
        await asyncio.gather(*readers)
        for listener in listeners:
            assert listener.ws is not None
            await listener.ws.close()
    json_l, msgpack_l = listeners
    print(f"chat.message, mean bytes per delivery over {posts} messages ({len(TEXTS)} lengths):")
    for name, pick in (("WebSocket", "websocket"), ("long-polling", "polling")):
        mean_json = statistics.mean(getattr(json_l, pick))
        mean_msgpack = statistics.mean(getattr(msgpack_l, pick))
        print(
            f"  {name:12} JSON {mean_json:6.1f}  msgpack {mean_msgpack:6.1f}"
            f"  ratio {mean_msgpack / mean_json:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    options = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            "JWT_SECRET": SECRET,
            "DATABASE_URL": f"sqlite+aiosqlite:///{data}/wire.db",
            "DATA_DIR": data,
            "LOG_LEVEL": "WARNING",
            "REST_WRITES_PER_SECOND": "10000",
            "REST_WRITE_BURST": "10000",
            "PATH": "/usr/bin:/bin",
        }
        server = subprocess.Popen([str(SERVE), "serve", "--port", str(port)], env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                subprocess.run(["sleep", "0.1"], check=True)
            asyncio.run(measure(url, options.posts))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
