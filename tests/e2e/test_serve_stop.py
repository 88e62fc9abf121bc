"""`studygroups serve` stopped with a long-polling client connected: the client's pending GET is
answered at once with an Engine.IO CLOSE packet (so it reconnects right away), and the process
does not wait out the graceful timeout for that GET."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx

from tests.conftest import token
from tests.e2e.cluster import free_port, spawn_serve, wait_healthy

RECORD_SEPARATOR = "\x1e"  # between the packets of one long-polling payload


async def test_a_long_polling_client_is_told_to_close_when_the_server_stops(
    tmp_path: Path,
) -> None:
    port = free_port()
    process, log = spawn_serve(tmp_path, port)
    try:
        await asyncio.to_thread(wait_healthy, port)
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        async with httpx.AsyncClient(timeout=30) as http:
            opened = (await http.get(base)).text
            sid = json.loads(opened[1:])["sid"]
            url = f"{base}&sid={sid}"
            connect = "40/study-groups," + json.dumps({"token": token("ana")})
            assert (await http.post(url, content=connect)).status_code == 200
            connected = (await http.get(url)).text  # the namespace's CONNECT answer
            pending = asyncio.create_task(http.get(url))  # waits for the next packet
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            answered = await asyncio.wait_for(pending, 10)
        exit_code = await asyncio.to_thread(process.wait, 10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert connected.startswith("40/study-groups,")
    assert answered.status_code == 200
    assert "1" in answered.text.split(RECORD_SEPARATOR)  # Engine.IO CLOSE
    assert exit_code in (0, -signal.SIGTERM)
    assert b"still open after" not in log.read_bytes()
