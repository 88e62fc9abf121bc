"""Connecting while the database cannot be reached: the connection is answered, never left
waiting (socket.io-client waits for a CONNECT answer forever), and the user's record is
written later."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from studygroups.app import build
from tests.conftest import make_settings, serve
from tests.e2e.clients import Peers
from tests.e2e.cluster import free_port


async def test_a_socket_connects_while_the_database_is_down_and_its_join_is_answered(
    tmp_path: Path,
) -> None:
    closed = free_port()
    service = build(
        make_settings(f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/none", tmp_path)
    )
    try:
        async with serve(service) as live:
            peers = Peers(live)
            try:
                peer = await peers.connect("bo")  # raises if the CONNECT goes unanswered
                connected = peer.connected
                ack = await peer.join("00000000-0000-4000-8000-000000000000")
            finally:
                await peers.close()
            async with httpx.AsyncClient(base_url=live.url) as http:
                for _ in range(100):  # written (and refused) in the background, soon
                    metrics = (await http.get("/metrics")).text
                    if "studygroups_users_not_recorded_total 1.0" in metrics:
                        break
                    await asyncio.sleep(0.05)
    finally:
        await service.database.dispose()

    assert connected
    assert ack["success"] is False
    assert "studygroups_users_not_recorded_total 1.0" in metrics
