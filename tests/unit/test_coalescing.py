"""Frames written to one WebSocket within a loop turn reach the socket as one write, in order."""

from __future__ import annotations

import asyncio

from studygroups.realtime.coalescing import CoalescingTransport


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def test_frames_of_one_turn_become_one_write_in_their_order() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())

    transport.write(b"one")
    transport.write(b"two")
    transport.write(b"three")
    assert real.writes == []
    await asyncio.sleep(0)

    assert real.writes == [b"onetwothree"]


async def test_closing_sends_what_was_written_first() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())

    transport.write(b"last words")
    transport.close()
    await asyncio.sleep(0)

    assert real.writes == [b"last words"] and real.closed


async def test_other_transport_calls_pass_through() -> None:
    transport = CoalescingTransport(RecordingTransport(), asyncio.get_running_loop())

    assert transport.get_extra_info("peername") == "info:peername"
