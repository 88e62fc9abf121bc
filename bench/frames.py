"""Frame attacks against a real server process: `python bench/frames.py [--transport T]`.

Starts `studygroups serve` on a fresh SQLite file and measures, from outside, two attacks of
docs/security.md "Socket.IO frames":

* attachments: one socket announces a binary event with 999 attachments, then sends
  `--frames` binary frames of 700 KB; prints the server's resident memory before and after.
* flood: one socket writes `--events` small events as fast as it can; prints another client's
  `GET /groups` latency (median, max) before and during the flood, and whether the flooding
  socket was disconnected.

`--transport websocket` goes through the native WebSocket path, unless UVICORN_WS is set (then
python-engineio's); `--transport polling` through long-polling. Figures, never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from studygroups.identity import mint_token

SECRET = "bench-secret-that-is-long-enough-for-hs256"
NS = "/study-groups"
SERVE = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "studygroups"


def _token(user: str) -> str:
    return mint_token(SECRET, user, user.capitalize(), f"{user}@example.org", None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class Sender:
    """One logged-in socket that writes Engine.IO MESSAGEs and never reads."""

    def __init__(self, url: str, transport: str) -> None:
        self.url, self.transport = url, transport
        self.http = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.poll_url = ""

    async def open(self) -> None:
        login = f"40{NS}," + json.dumps({"token": _token("cy")})
        if self.transport == "websocket":
            url = self.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
            self.ws = await self.http.ws_connect(url)
            await self.ws.receive_str()
            await self.ws.send_str(login)
            await self.ws.receive_str()
        else:
            base = f"{self.url}/socket.io/?EIO=4&transport=polling"
            async with self.http.get(base) as opened:
                sid = json.loads((await opened.text())[1:])["sid"]
            self.poll_url = f"{base}&sid={sid}"
            await self.send_packet(login)
            async with self.http.get(self.poll_url) as answer:
                await answer.read()

    async def send_packet(self, packet: str) -> None:
        if self.ws is not None:
            await self.ws.send_str(packet)
            return
        async with self.http.post(self.poll_url, data=packet.encode()) as answer:
            if answer.status != 200:
                raise ConnectionError(f"POST answered {answer.status}")

    async def send_binary(self, data: bytes) -> None:
        if self.ws is not None:
            await self.ws.send_bytes(data)
        else:
            await self.send_packet("b" + base64.b64encode(data).decode())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


async def _latencies(rest: httpx.AsyncClient, seconds: float) -> list[float]:
    headers = {"Authorization": f"Bearer {_token('ana')}"}
    found: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        await rest.get("/groups", headers=headers)
        found.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)
    return found


def _describe(name: str, values: list[float]) -> str:
    median, worst = statistics.median(values) * 1000, max(values) * 1000
    return f"{name}: median {median:.0f} ms, max {worst:.0f} ms over {len(values)} requests"


async def attachments(url: str, pid: int, transport: str, frames: int) -> None:
    sender = Sender(url, transport)
    await sender.open()
    await sender.send_packet(f'45999-{NS},["typing",{{"_placeholder":true,"num":0}}]')
    before = _resident_mb(pid)
    blob = b"\x01" * 700_000
    for _ in range(frames):
        await sender.send_binary(blob)
    await asyncio.sleep(2)  # let the server read what was written
    print(f"attachments ({transport}): server RSS {before:.0f} MB -> {_resident_mb(pid):.0f} MB")
    await sender.close()


async def flood(url: str, transport: str, events: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as rest:
        quiet = await _latencies(rest, 2.0)
        sender = Sender(url, transport)
        await sender.open()
        probe = asyncio.create_task(_latencies(rest, 4.0))
        sent = 0
        frame = f'42{NS},["leaveSession",{{"sessionId":"x"}}]'
        try:
            for sent in range(1, events + 1):
                await sender.send_packet(frame)
                if sent % 500 == 0:
                    await asyncio.sleep(0)
        except (aiohttp.ClientError, ConnectionError) as error:
            print(
                f"flood ({transport}): the server closed the socket after {sent} frames ({error})"
            )
        else:
            closed = sender.ws is not None and sender.ws.closed
            print(f"flood ({transport}): all {sent} frames written; WebSocket closed: {closed}")
        busy = await probe
        await sender.close()
        print(_describe(f"flood ({transport}): GET /groups before", quiet))
        print(_describe(f"flood ({transport}): GET /groups during {events} events", busy))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transport", choices=["websocket", "polling"], default="websocket")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--events", type=int, default=30_000)
    options = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "JWT_SECRET": SECRET, "DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [str(SERVE), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=url) as probe:
                for _ in range(100):
                    try:
                        await probe.get("/healthz")
                        break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.2)
            await attachments(url, server.pid, options.transport, options.frames)
            await flood(url, options.transport, options.events)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    asyncio.run(main())
