"""The server's own packets (acks, CONNECT answers) encode exactly as python-socketio's."""

from __future__ import annotations

from typing import Any

import pytest
from socketio import packet as sio_packet

from studygroups.realtime.fanout import OutboundPacket
from studygroups.realtime.server import GatedServer

MISSED = [
    {"seq": n, "event": "chat.message", "data": {"message": f"hé {n}", "seq": n}}
    for n in range(1, 51)
]
PAYLOADS: list[Any] = [
    [{"success": True, "sessionId": "s1", "seq": 50, "missed": MISSED, "presence": []}],
    [{"success": False, "error": {"code": "FORBIDDEN", "message": "no"}}],
    [],
    [None, 1, 2.5, "text", [True, {"big": 2**70}]],
    [{"file": b"\x00\x01", "nested": [bytearray(b"x")]}],
    [{1: b"bytes under a key orjson refuses"}],
]


@pytest.mark.parametrize("data", PAYLOADS)
def test_an_ack_encodes_as_the_librarys_packet_with_or_without_bytes(data: Any) -> None:
    ours = OutboundPacket(sio_packet.ACK, namespace="/study-groups", id=7, data=data)
    theirs = sio_packet.Packet(sio_packet.ACK, namespace="/study-groups", id=7, data=data)

    assert ours.packet_type == theirs.packet_type
    assert ours.encode() == theirs.encode()


def test_the_server_builds_its_packets_with_the_cheaper_check() -> None:
    server = GatedServer(gate=None, async_mode="asgi")  # type: ignore[arg-type]

    assert server.packet_class is OutboundPacket
