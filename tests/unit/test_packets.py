"""Engine.IO input checks (realtime/packets.py): what python-engineio could not decode is
dropped, everything else passes byte for byte."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from engineio import packet as eio_packet
from engineio import payload as eio_payload

from studygroups.compat import engineio_asgi as eio_asgi
from studygroups.realtime.packets import checked_payload, packet_problem, whole_body


@pytest.mark.parametrize(
    "packet",
    ["4hello", '42/study-groups,1["typing",{}]', "3", "2probe", "5", "1", "6", "bAAEC", b"\x00"],
)
def test_packets_python_engineio_decodes_pass(packet: str | bytes) -> None:
    assert packet_problem(packet) is None
    eio_packet.Packet(encoded_packet=packet)  # and python-engineio does decode them


@pytest.mark.parametrize("packet", ["", "x", "9", "7hello", "babc", "\u0663", " 4"])
def test_packets_python_engineio_chokes_on_are_reported(packet: str) -> None:
    assert packet_problem(packet) is not None


def test_a_well_formed_payload_is_left_as_it_is() -> None:
    body = b"4hello\x1e3\x1ebAAEC"

    assert checked_payload(body) == (body, None)


def test_a_payload_keeps_its_good_packets_and_says_why_it_dropped_the_others() -> None:
    body, problem = checked_payload(b"4one\x1ex\x1e4two\x1e9")

    assert body == b"4one\x1e4two"
    assert problem is not None
    assert [p.data for p in eio_payload.Payload(encoded_payload=body.decode()).packets] == [
        "one",
        "two",
    ]


@pytest.mark.parametrize(
    "body",
    [b"4\xff\xfe", "\x1e".join(["6"] * 17).encode(), b"d=", b"d=x"],
)
def test_payloads_that_cannot_be_decoded_as_a_whole_are_dropped(body: bytes) -> None:
    checked, problem = checked_payload(body)

    assert problem is not None
    eio_payload.Payload(encoded_payload=checked.decode())  # decodes without raising


def dripped(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI receive giving `body` a byte per message, as a client dripping it would."""
    pieces = iter(range(len(body)))

    async def receive() -> dict[str, Any]:
        at = next(pieces, None)
        if at is None:
            return {"type": "http.disconnect"}
        last = at == len(body) - 1
        return {"type": "http.request", "body": body[at : at + 1], "more_body": not last}

    return receive


async def test_a_post_body_dripped_a_byte_at_a_time_is_read_in_time_linear_in_its_size() -> None:
    # A liveness bound, not a benchmark: python-engineio's reader alone copies all it holds at
    # every piece (9 s here for this body); any client without a token could.
    body = b"4" + b"x" * 600_000
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/socket.io/",
        "query_string": b"",
        "headers": [],
    }
    started = time.process_time()

    environ = await eio_asgi.translate_request(scope, whole_body(dripped(body), 1_000_000), None)
    read = await environ["wsgi.input"].read(len(body))

    assert time.process_time() - started < 4.0  # ~1 s here, most of it this test's receive
    assert read == body


async def test_a_body_past_the_limit_is_gathered_no_further_than_one_piece_past_it() -> None:
    receive = whole_body(dripped(b"y" * 100), 10)

    first = await receive()
    rest = await receive()

    assert (first["body"], first["more_body"]) == (b"y" * 11, True)
    assert rest == {"type": "http.request", "body": b"y", "more_body": True}  # as it comes
