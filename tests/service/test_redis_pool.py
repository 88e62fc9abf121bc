"""The Redis clients' pools open connections without reading package metadata each time."""

from __future__ import annotations

import asyncio
from importlib import metadata

import pytest

from studygroups.realtime.redis_pool import waiting_client


async def test_opening_many_redis_connections_reads_the_librarys_version_at_most_once(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real_version = metadata.version

    def counted(name: str) -> str:
        reads.append(name)
        return real_version(name)

    monkeypatch.setattr(metadata, "version", counted)
    client = waiting_client(redis_url, pool_size=20)
    try:
        # 20 commands at once: the pool opens 20 connections.
        answers = await asyncio.gather(*(client.ping() for _ in range(20)))
    finally:
        await client.aclose()

    assert answers == [True] * 20
    assert reads.count("redis") <= 1
