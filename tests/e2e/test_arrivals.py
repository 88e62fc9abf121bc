"""New WebSocket clients arriving at once (realtime/admission.py): past the places for them, an
upgrade is answered only once a client before it is in — joined, gone, or late to join.

Only the native WebSocket path has places; scripts/check leaves this file out of its second
pass, on python-engineio's WebSockets (UVICORN_WS=websockets-sansio), which admit everyone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from studygroups.app import build
from tests.conftest import LiveServer, make_settings, serve
from tests.e2e.raw import WebSocketClient
from tests.e2e.test_metrics import sample
from tests.support import make_session

UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: 127.0.0.1\r\n"
    b"connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n"
    b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


def one_place(server: LiveServer, hold_seconds: float) -> None:
    """One place for arriving clients, and it stays one whatever the loop's lag."""
    admission = server.service.admission
    admission.places = admission.min_places = admission.max_places = 1
    admission.hold_seconds = hold_seconds


async def still_waiting(opening: asyncio.Task[WebSocketClient]) -> bool:
    await asyncio.sleep(0.4)
    return not opening.done()


async def test_an_upgrade_past_the_places_is_answered_once_the_client_before_it_has_joined(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo"])
    one_place(server, hold_seconds=30)
    ana = await WebSocketClient.open(server)
    await ana.login("ana")

    opening = asyncio.create_task(WebSocketClient.open(server))
    assert await still_waiting(opening), "bo's upgrade was answered while ana was arriving"
    assert (await ana.call("joinSession", {"sessionId": scenario.session_id}))["success"]
    bo = await asyncio.wait_for(opening, 5)
    await bo.login("bo")
    joined = await bo.call("joinSession", {"sessionId": scenario.session_id})

    assert joined["success"]
    assert [p["userId"] for p in joined["presence"]] == ["ana", "bo"]
    metrics = (await rest.get("/metrics")).text
    assert sample(metrics, "studygroups_websockets_waited_total") == 1
    await ana.close()
    await bo.close()


async def test_a_client_that_begins_no_join_gives_its_place_up_after_the_hold(
    server: LiveServer,
) -> None:
    one_place(server, hold_seconds=1.5)
    listener = await WebSocketClient.open(server)
    await listener.login("ana")  # listens to its own user's events, joins nothing

    opening = asyncio.create_task(WebSocketClient.open(server))
    assert await still_waiting(opening), "bo's upgrade was answered while ana held the place"
    bo = await asyncio.wait_for(opening, 5)
    await bo.login("bo")

    await listener.close()
    await bo.close()


async def test_a_client_that_leaves_while_arriving_gives_its_place_to_the_next(
    server: LiveServer,
) -> None:
    one_place(server, hold_seconds=30)
    ana = await WebSocketClient.open(server)
    opening = asyncio.create_task(WebSocketClient.open(server))
    assert await still_waiting(opening)

    await ana.close()
    bo = await asyncio.wait_for(opening, 5)
    await bo.login("bo")
    await bo.close()


async def test_an_upgrade_whose_client_left_while_waiting_takes_no_place(
    server: LiveServer, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "cy"])
    one_place(server, hold_seconds=30)
    ana = await WebSocketClient.open(server)
    await ana.login("ana")
    _, leaving = await asyncio.open_connection("127.0.0.1", server.port)
    leaving.write(UPGRADE)  # waits behind ana, then gives up
    await leaving.drain()
    opening = asyncio.create_task(WebSocketClient.open(server))
    assert await still_waiting(opening)
    leaving.close()
    await leaving.wait_closed()

    assert (await ana.call("joinSession", {"sessionId": scenario.session_id}))["success"]
    cy = await asyncio.wait_for(opening, 5)
    await cy.login("cy")
    assert (await cy.call("joinSession", {"sessionId": scenario.session_id}))["success"]
    assert server.service.admission.held == 0
    await ana.close()
    await cy.close()


async def test_a_shutdown_closes_a_waiting_upgrade_without_answering_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    service = build(make_settings(sqlite_url, tmp_path))
    try:
        async with serve(service) as live:
            one_place(live, hold_seconds=30)
            ana = await WebSocketClient.open(live)
            reader, waiting = await asyncio.open_connection("127.0.0.1", live.port)
            waiting.write(UPGRADE)
            await waiting.drain()
            await asyncio.sleep(0.3)
            assert service.admission.waiting == 1
        # the server has stopped: ana's place was freed by the shutdown, not given away
        answer = await asyncio.wait_for(reader.read(), 5)
        assert not answer.startswith(b"HTTP/1.1 101"), answer
        waiting.close()
        await ana.close()
    finally:
        await service.database.dispose()
