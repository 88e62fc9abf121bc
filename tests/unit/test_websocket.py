"""WebSocket framing (realtime/websocket.py): what a client sends is read back exactly, and
every protocol violation is refused with the close code RFC 6455 gives it."""

from __future__ import annotations

import itertools
import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studygroups.realtime import websocket as ws


def client_frame(
    opcode: int, payload: bytes, *, final: bool = True, mask: bytes | None = None
) -> bytes:
    """A frame as a browser sends it: masked, length in the shortest form."""
    mask = os.urandom(4) if mask is None else mask
    length = len(payload)
    first = (0x80 if final else 0) | opcode
    if length < 126:
        header = bytes((first, 0x80 | length))
    elif length < 65536:
        header = bytes((first, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((first, 0x80 | 127)) + length.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def read_server_frame(data: bytes) -> tuple[int, bytes]:
    first, second = data[0], data[1]
    assert first & 0x80, "server frames are final"
    assert not second & 0x80, "server frames are not masked"
    length, offset = second & 0x7F, 2
    if length == 126:
        length, offset = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        length, offset = int.from_bytes(data[2:10], "big"), 10
    assert len(data) == offset + length
    return first & 0x0F, data[offset:]


def test_the_accept_key_is_the_one_rfc_6455_gives_for_its_sample_key() -> None:
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_the_handshake_answer_switches_protocols_with_the_accept_key() -> None:
    answer = ws.handshake_response("dGhlIHNhbXBsZSBub25jZQ==").decode()
    assert answer.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in answer
    assert answer.endswith("\r\n\r\n")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_server_frames_carry_any_length_in_the_shortest_header(size: int) -> None:
    payload = os.urandom(size)
    opcode, read = read_server_frame(ws.frame(ws.BINARY, payload))
    assert (opcode, read) == (ws.BINARY, payload)


def test_a_close_frame_carries_its_code_and_reason() -> None:
    opcode, payload = read_server_frame(ws.close_frame(ws.GOING_AWAY, "bye"))
    assert opcode == ws.CLOSE
    assert ws.close_code(payload) == 1001
    assert payload[2:] == b"bye"
    assert ws.close_code(b"") == 1005


@given(
    messages=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=8),
)
def test_messages_are_read_whole_however_the_bytes_are_split(
    messages: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(client_frame(ws.BINARY, message) for message in messages)
    positions = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    reader = ws.FrameReader(max_size=1_000_000)
    read: list[tuple[int, bytes]] = []
    for start, stop in itertools.pairwise(positions):
        read += reader.feed(stream[start:stop])
    assert read == [(ws.BINARY, message) for message in messages]


def test_a_big_frame_dripped_a_byte_at_a_time_costs_time_linear_in_its_size() -> None:
    # A liveness bound, not a benchmark: copying what was buffered at every byte, as the reader
    # did, copies ~125 GB here (7 s; 16 s for a 900 kB frame); any anonymous client could.
    payload = os.urandom(500_000)
    stream = client_frame(ws.BINARY, payload) + client_frame(ws.PING, b"after")
    reader = ws.FrameReader(max_size=1_000_000)
    read: list[tuple[int, bytes]] = []
    started = time.process_time()

    for byte in range(len(stream)):
        read += reader.feed(stream[byte : byte + 1])

    assert time.process_time() - started < 2.0
    assert read == [(ws.BINARY, payload), (ws.PING, b"after")]


def test_a_fragmented_text_message_is_joined_and_pings_between_fragments_pass_through() -> None:
    reader = ws.FrameReader(max_size=1000)
    stream = (
        client_frame(ws.TEXT, "héllo ".encode(), final=False)
        + client_frame(ws.PING, b"are you there")
        + client_frame(ws.CONTINUATION, b"wor", final=False)
        + client_frame(ws.CONTINUATION, b"ld")
    )
    assert reader.feed(stream) == [(ws.PING, b"are you there"), (ws.TEXT, "héllo world".encode())]


@pytest.mark.parametrize(
    ("stream", "code"),
    [
        (client_frame(ws.TEXT, b"x")[:1] + bytes((0x01,)) + b"x", ws.PROTOCOL_ERROR),  # unmasked
        (bytes((0xC1,)) + client_frame(ws.TEXT, b"x")[1:], ws.PROTOCOL_ERROR),  # RSV1 set
        (client_frame(ws.CONTINUATION, b"x"), ws.PROTOCOL_ERROR),  # nothing to continue
        (client_frame(ws.PING, b"x", final=False), ws.PROTOCOL_ERROR),  # fragmented control
        (client_frame(ws.PING, b"x" * 126), ws.PROTOCOL_ERROR),  # control too long
        (client_frame(0x3, b"x"), ws.PROTOCOL_ERROR),  # reserved opcode
        (
            client_frame(ws.TEXT, b"a", final=False) + client_frame(ws.TEXT, b"b"),
            ws.PROTOCOL_ERROR,
        ),  # new message inside a fragmented one
        (client_frame(ws.TEXT, b"x" * 101), ws.MESSAGE_TOO_BIG),
        (
            client_frame(ws.TEXT, b"x" * 60, final=False)
            + client_frame(ws.CONTINUATION, b"x" * 60),
            ws.MESSAGE_TOO_BIG,
        ),
    ],
)
def test_protocol_violations_are_refused_with_their_close_code(stream: bytes, code: int) -> None:
    reader = ws.FrameReader(max_size=100)
    with pytest.raises(ws.ProtocolError) as refused:
        reader.feed(stream)
    assert refused.value.code == code


def test_a_too_big_message_is_refused_from_its_header_before_its_body_arrives() -> None:
    reader = ws.FrameReader(max_size=100)
    with pytest.raises(ws.ProtocolError):
        reader.feed(client_frame(ws.BINARY, b"x" * 70000)[:14])


UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
    b"host: example.test\r\n"
    b"connection: Upgrade\r\n"
    b"upgrade: websocket\r\n"
    b"sec-websocket-version: 13\r\n"
    b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"x-many: a\r\n"
    b"x-many: b\r\n"
    b"\r\n"
)


def test_an_upgrade_request_is_parsed_into_path_query_and_headers() -> None:
    request = ws.parse_request(UPGRADE)
    assert request is not None
    assert (request.method, request.path) == ("GET", "/socket.io/")
    assert request.query == {"EIO": ["4"], "transport": ["websocket"]}
    assert request.headers["host"] == "example.test"
    assert request.headers["x-many"] == "a, b"
    assert request.is_plain_websocket_upgrade()


@pytest.mark.parametrize(
    "change",
    [
        (b"GET /", b"POST /"),
        (b"sec-websocket-version: 13", b"sec-websocket-version: 8"),
        (b"upgrade: websocket", b"upgrade: h2c"),
        (b"connection: Upgrade", b"connection: keep-alive"),
        (b"dGhlIHNhbXBsZSBub25jZQ==", b"not-base64!"),
        (b"dGhlIHNhbXBsZSBub25jZQ==", b"c2hvcnQ="),  # decodes to fewer than 16 bytes
    ],
)
def test_upgrades_outside_plain_websocket_13_are_not_taken(change: tuple[bytes, bytes]) -> None:
    request = ws.parse_request(UPGRADE.replace(*change))
    assert request is not None
    assert not request.is_plain_websocket_upgrade()


def test_an_upgrade_asking_for_subprotocols_is_taken_and_answered_without_selecting_one() -> None:
    request = ws.parse_request(
        UPGRADE.replace(b"\r\n\r\n", b"\r\nsec-websocket-protocol: chat\r\n\r\n")
    )
    assert request is not None
    assert request.is_plain_websocket_upgrade()
    answer = ws.handshake_response(request.headers["sec-websocket-key"])
    assert b"sec-websocket-protocol" not in answer.lower()


@pytest.mark.parametrize(
    "raw",
    [b"GET / HTTP/1.1\r\nhost: x\r\n", b"garbage\r\n\r\n", b"GET / HTTP/1.1\r\nno colon\r\n\r\n"],
)
def test_what_is_not_a_whole_request_is_not_parsed(raw: bytes) -> None:
    assert ws.parse_request(raw) is None
