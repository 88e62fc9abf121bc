"""userJoined and userLeft name their session: one socket may follow several sessions."""

from __future__ import annotations

import httpx

from tests.conftest import auth
from tests.e2e.clients import Peers
from tests.support import make_session


async def test_a_socket_following_two_sessions_can_tell_whose_presence_changed_where(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    first = await make_session(rest, ["ana", "bo"])
    response = await rest.post(
        f"/group-sessions?groupId={first.group_id}", json={"rounds_count": 1}, headers=auth("ana")
    )
    assert response.status_code == 201, response.text
    second = response.json()["id"]
    ana = await peers.connect("ana")
    await ana.join_ok(first.session_id)
    await ana.join_ok(second)
    bo = await peers.connect("bo")

    await bo.join_ok(second)
    await bo.join_ok(first.session_id)
    await bo.call("leaveSession", {"sessionId": second})
    await ana.wait_for("userLeft")

    assert [(e["userId"], e["sessionId"]) for e in ana.of("userJoined")] == [
        ("bo", second),
        ("bo", first.session_id),
    ]
    assert [(e["userId"], e["sessionId"]) for e in ana.of("userLeft")] == [("bo", second)]
