"""Presence across two app instances sharing PostgreSQL and Redis: a join answers who is present
with the changes its room heard from the other instance between its presence read and entering
the room (services/rooms.py `heard`). The join on instance A is held right after its listing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from studygroups.app import Service, build
from tests.conftest import LiveServer, make_settings, serve
from tests.e2e.clients import Peer, Peers
from tests.e2e.cluster import eventually
from tests.support import make_session

pytestmark = pytest.mark.redis


class HeldAfterListing:
    """Wraps an instance's presence `enter`: ana's join is held once counted in and listed."""

    def __init__(self, service: Service) -> None:
        self.presence = service.api.state.api.presence
        self.enter = self.presence.enter
        self.listed = asyncio.Event()
        self.gate = asyncio.Event()

    async def held_enter(
        self, session_id: str, user_id: str, user_name: str, sid: str
    ) -> tuple[bool, list[dict[str, str]]]:
        answer: tuple[bool, list[dict[str, str]]] = await self.enter(
            session_id, user_id, user_name, sid
        )
        if user_id == "ana":
            self.listed.set()
            await self.gate.wait()
        return answer


@dataclass
class Cluster:
    a: LiveServer
    b: LiveServer
    held: HeldAfterListing
    session_id: str
    peers_a: Peers
    peers_b: Peers


@asynccontextmanager
async def two_instances(
    postgres_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cluster]:
    prefix = f"presence-{uuid.uuid4().hex[:12]}"  # this test's keys and channel only
    settings = make_settings(postgres_url, tmp_path, redis_url=redis_url, redis_prefix=prefix)
    services = build(settings), build(settings)
    held = HeldAfterListing(services[0])
    monkeypatch.setattr(held.presence, "enter", held.held_enter)
    try:
        async with serve(services[0]) as a, serve(services[1]) as b:
            await eventually(lambda: all(s.sio.manager.subscribed for s in services))
            async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
                scenario = await make_session(http, ["ana", "bo", "cy"])
            peers_a, peers_b = Peers(a), Peers(b)
            try:
                yield Cluster(a, b, held, scenario.session_id, peers_a, peers_b)
            finally:
                held.gate.set()
                await peers_a.close()
                await peers_b.close()
    finally:
        for service in services:
            await service.database.dispose()
        client = aioredis.Redis.from_url(redis_url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


def user_ids(events: list[Any]) -> list[str]:
    return [str(event["userId"]) for event in events]


async def test_a_user_who_joins_on_the_other_instance_during_a_join_is_in_its_answer(
    postgres_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with two_instances(postgres_url, redis_url, tmp_path, monkeypatch) as cluster:
        cy = await cluster.peers_a.joined("cy", cluster.session_id)  # hears A's room
        ana = await cluster.peers_a.connect("ana")
        joining = asyncio.create_task(ana.join(cluster.session_id))
        await cluster.held.listed.wait()  # Ana's list: Ana and Cy; not in the room yet

        await cluster.peers_b.joined("bo", cluster.session_id)
        await cy.wait_until(lambda: "bo" in user_ids(cy.of("userJoined")), "bo's userJoined on A")
        cluster.held.gate.set()
        ack = await joining

    assert ack["success"] is True
    assert user_ids(ack["presence"]) == ["ana", "bo", "cy"]


async def test_a_user_who_leaves_on_the_other_instance_during_a_join_is_not_in_its_answer(
    postgres_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with two_instances(postgres_url, redis_url, tmp_path, monkeypatch) as cluster:
        bo: Peer = await cluster.peers_b.joined("bo", cluster.session_id)
        cy = await cluster.peers_a.joined("cy", cluster.session_id)
        ana = await cluster.peers_a.connect("ana")
        joining = asyncio.create_task(ana.join(cluster.session_id))
        await cluster.held.listed.wait()  # Ana's list: Ana, Bo and Cy; not in the room yet

        await bo.call("leaveSession", {"sessionId": cluster.session_id})
        await cy.wait_until(lambda: "bo" in user_ids(cy.of("userLeft")), "bo's userLeft on A")
        cluster.held.gate.set()
        ack = await joining

    assert ack["success"] is True
    assert user_ids(ack["presence"]) == ["ana", "cy"]
