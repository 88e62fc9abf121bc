"""Engine.IO input checks (realtime/packets.py): what python-engineio could not decode is
dropped, everything else passes byte for byte."""

from __future__ import annotations

import pytest
from engineio import packet as eio_packet
from engineio import payload as eio_payload

from studygroups.realtime.packets import checked_payload, packet_problem


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
