"""The msgpack codec (realtime/codecs.py) writes what socket.io-msgpack-parser's decoder accepts
and reads what its encoder writes; anything else is refused as malformed, quickly."""

from __future__ import annotations

from datetime import UTC, datetime

import msgpack
import pytest
from socketio import packet as sio_packet

from studygroups.realtime.codecs import (
    JSON,
    MSGPACK,
    MsgPackPacket,
    codec_for_path,
    json_compatible,
)

NS = "/study-groups"
UNDEFINED = b"\xd4\x00\x00"  # notepack.io's `undefined`


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def decoded(raw: bytes) -> MsgPackPacket:
    return MsgPackPacket(encoded_packet=raw)


def test_the_codec_of_a_session_follows_the_path_of_its_handshake() -> None:
    assert codec_for_path("/socket.io-msgpack/") is MSGPACK
    assert codec_for_path("/socket.io-msgpack") is MSGPACK
    assert codec_for_path("/socket.io/") is JSON
    assert codec_for_path("") is JSON


def test_a_server_disconnect_has_no_data_field_which_the_npm_decoder_would_refuse() -> None:
    raw = MsgPackPacket(sio_packet.DISCONNECT, namespace=NS).encode()

    assert msgpack.unpackb(raw) == {"type": 1, "nsp": NS}


def test_an_ack_carries_its_id_and_a_missing_namespace_is_the_main_one() -> None:
    raw = MsgPackPacket(sio_packet.ACK, data=[{"success": True}], id=3).encode()

    assert msgpack.unpackb(raw) == {"type": 3, "nsp": "/", "data": [{"success": True}], "id": 3}


def test_a_value_msgpack_has_no_type_for_is_written_as_json_writes_it() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    raw = MsgPackPacket(sio_packet.EVENT, namespace=NS, data=["x", {"at": moment}]).encode()

    assert msgpack.unpackb(raw)["data"] == ["x", {"at": "2026-01-02T03:04:05+00:00"}]


def test_what_socket_io_client_sends_is_read_with_undefined_as_json_stringify_has_it() -> None:
    # socket.emit("joinSession", {sessionId: "s", lastSeq: undefined}, ack) and a CONNECT
    # without auth, as notepack.io writes them
    event = msgpack.packb({"type": 2, "nsp": NS, "id": 0, "data": ["joinSession", {}]})
    event = event[:-1] + b"\x82\xa9sessionId\xa1s\xa7lastSeq" + UNDEFINED
    connect = b"\x83\xa4type\x00\xa4data" + UNDEFINED + b"\xa3nsp" + msgpack.packb(NS)

    read = decoded(event)
    opened = decoded(connect)

    assert (read.packet_type, read.namespace, read.id) == (2, NS, 0)
    assert read.data == ["joinSession", {"sessionId": "s"}]
    assert (opened.packet_type, opened.namespace, opened.data) == (0, NS, None)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xc1", id="not msgpack"),
        pytest.param(msgpack.packb([2, NS, ["typing"]]), id="an array, not a map"),
        pytest.param(msgpack.packb("2/study-groups,"), id="a string"),
        pytest.param(msgpack.packb({"type": "2", "nsp": NS, "data": []}), id="type not an int"),
        pytest.param(msgpack.packb({"type": 9, "nsp": NS, "data": []}), id="unknown type"),
        pytest.param(msgpack.packb({"type": 2, "nsp": 1, "data": []}), id="nsp not a string"),
        pytest.param(msgpack.packb({"type": 2, "data": []}), id="no nsp"),
        pytest.param(msgpack.packb({"type": 2, "nsp": NS, "data": {}}), id="event data a map"),
        pytest.param(msgpack.packb({"type": 2, "nsp": NS, "data": [], "id": -1}), id="bad id"),
        pytest.param(msgpack.packb({"type": 2, "nsp": NS, "data": [], "id": 1.5}), id="float id"),
        pytest.param(msgpack.packb({"type": 1, "nsp": NS, "data": 1}), id="disconnect data"),
        pytest.param(b"\x81\xa4type\xc7\x01\x05\x00", id="an ext type as the type"),
        pytest.param(b"\x81\xa4type\xa2\xff\xfe", id="invalid UTF-8"),
        pytest.param(b"\xdd\xff\xff\xff\xff", id="an array declaring 4 billion items"),
        pytest.param(b"\xdf\xff\xff\xff\xff", id="a map declaring 4 billion entries"),
        pytest.param(b"\x91" * 5000 + b"\xc0", id="nested 5000 deep"),
        pytest.param(msgpack.packb({"type": 2, "nsp": NS, "data": []}) + b"\x00", id="trailing"),
    ],
)
def test_a_packet_the_npm_parser_would_not_write_is_refused(raw: bytes) -> None:
    with pytest.raises(Exception):  # noqa: B017 -- any error is a malformed packet to the gate
        decoded(raw)


def test_text_is_no_msgpack_packet() -> None:
    with pytest.raises(TypeError):
        MsgPackPacket(encoded_packet='2/study-groups,["typing",{}]')


@pytest.mark.parametrize(
    ("value", "compatible"),
    [
        ({"sessionId": "s", "lastSeq": 3, "x": [1.5, None, True]}, True),
        ({"sessionId": b"s"}, False),
        ({1: "a"}, False),
        ([msgpack.ExtType(5, b"\x00")], False),
        (_nested(70), False),
    ],
)
def test_only_what_json_could_carry_passes_as_a_payload(value: object, compatible: bool) -> None:
    assert json_compatible(value) is compatible
