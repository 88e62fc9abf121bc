"""Tokens on live sockets as the official npm socket.io-client sees them (docs/realtime.md,
"Tokens on live sockets"): an in-band refresh, the server's disconnect at exp, and the refusal
of the old token on reconnect."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer, token
from tests.e2e.test_interop_node import node_binary, node_client
from tests.e2e.test_token_expiry import iso_second, token_exp
from tests.support import make_session

pytestmark = pytest.mark.node


async def test_the_official_client_refreshes_in_band_is_ended_at_the_new_exp_and_refused_after(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    node_binary()  # skip early without node
    scenario = await make_session(rest, ["ana", "bo"])
    first, second = token("bo", ttl=4), token("bo", ttl=6)  # node takes a while to start

    async with node_client(server, user=None, jwt=first, session_id=scenario.session_id) as bo:
        await bo.wait_for("joined", lambda line: line["ack"]["success"] is True)
        await bo.send("emit", event="refreshToken", data={"token": second})
        refreshed = await bo.wait_for("ack", lambda line: line["event"] == "refreshToken")
        ended = await bo.wait_for("disconnected")
        mark = len(bo.lines)
        await bo.send("connect")  # its `auth` still holds the first token
        refused = await bo.wait_for("connect_error", after=mark)

    assert refreshed["ack"] == {"success": True, "expiresAt": iso_second(token_exp(second))}
    assert ended["reason"] == "io server disconnect"  # not retried by the client on its own
    assert refused["message"] == "Invalid or expired token"
