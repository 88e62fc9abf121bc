"""The bounded outgoing queue of a python-engineio socket (realtime/bounds.py)."""

from __future__ import annotations

from engineio import packet as eio_packet

from studygroups.realtime.bounds import PACKET_OVERHEAD, BoundedQueue


def message(size: int) -> eio_packet.Packet:
    return eio_packet.Packet(eio_packet.MESSAGE, "x" * size)


async def test_the_queue_holds_packets_up_to_its_limit_and_counts_what_leaves() -> None:
    cut: list[BoundedQueue] = []
    queue = BoundedQueue(2 * (100 + PACKET_OVERHEAD), cut.append, connection=None)
    queue.put_nowait(message(100))
    queue.put_nowait(message(100))
    assert queue.qsize() == 2
    assert queue.waiting == 2 * (100 + PACKET_OVERHEAD)
    queue.get_nowait()
    queue.put_nowait(message(100))  # room again once one left
    assert queue.qsize() == 2
    assert cut == []


async def test_one_packet_past_the_limit_drops_everything_waiting_and_refuses_what_follows() -> (
    None
):
    cut: list[BoundedQueue] = []
    queue = BoundedQueue(1000, cut.append, connection=None)
    queue.put_nowait(message(600))
    queue.put_nowait(message(600))
    assert cut == [queue]
    assert queue.empty()
    assert queue.waiting == 0
    queue.put_nowait(message(1))
    assert queue.empty()
    queue.put_nowait(None)  # the library's stop marker still gets through
    assert queue.get_nowait() is None
    queue.task_done()
    await queue.join()  # nothing dropped is left for `close(wait=True)` to wait on
    assert cut == [queue]
