"""A chat post without an Idempotency-Key is one transaction below the unit of work
(services/chat.py `post_message_at_once`): one statement that commits on its own on
PostgreSQL, one synchronous run on SQLite's writer connection. What it stores and answers is
what the unit of work's transaction did, and a refusal takes no seq. Both databases, real."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from studygroups.app import Service
from tests.service.observe import feed_events, snapshot
from tests.support import make_session


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_chat_post_reaches_postgresql_as_one_statement(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.chat("bo", "warming the pool")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = service.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await scenario.chat("bo", "one statement")
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert len(statements) == 1
    assert statements[0].lstrip().startswith("WITH taken AS")


async def test_the_logged_event_of_a_post_carries_what_the_answer_says(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"], rounds=2)

    answers = [
        (await scenario.chat("bo", 'quotes " and \\ and ünïcode', round_index=2)).json(),
        (await scenario.chat("ana", "second")).json(),
    ]

    logged = [e for e in await feed_events(scenario) if e["event"] == "chat.message"]
    assert [e["data"] for e in logged] == [
        {
            "id": answer["id"],
            "sessionId": scenario.session_id,
            "roundIndex": answer["round_index"],
            "message": answer["message"],
            "userId": answer["user_id"],
            "userName": answer["user_name"],
            "seq": answer["seq"],
            "timestamp": answer["created_at"],
        }
        for answer in answers
    ]
    assert answers[0]["message"] == 'quotes " and \\ and ünïcode'
    assert answers[1]["seq"] == answers[0]["seq"] + 1
    assert (answers[0]["user_role"], answers[1]["user_role"]) == ("SCRIBE", "FACILITATOR")


async def test_refused_posts_take_no_seq_and_the_next_post_follows_without_a_gap(
    http: httpx.AsyncClient,
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    first = (await scenario.chat("bo", "before")).json()
    before = await snapshot(scenario)

    await scenario.chat("bo", "no such round", round_index=2, expect=400)
    await scenario.chat("cy", "not a member", expect=403)
    await scenario.call(
        "POST",
        f"/groups/other-group/sessions/{scenario.session_id}/chat",
        "bo",
        {"message": "wrong group", "round_index": 1},
        expect=404,
    )

    assert await snapshot(scenario) == before
    after = (await scenario.chat("bo", "after")).json()
    assert after["seq"] == first["seq"] + 1
    seqs = [e["seq"] for e in await feed_events(scenario)]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_chat_post_on_sqlite_is_one_transaction_on_the_writers_own_connection(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    await scenario.chat("bo", "opening the writer connection")
    through_sqlalchemy: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_sqlalchemy.append(statement)

    async with service.database.sqlite_writer() as writer:
        assert isinstance(writer, sqlite3.Connection)
        on_writer: list[str] = []
        writer.set_trace_callback(on_writer.append)
    engine = service.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await scenario.chat("bo", "one transaction")
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert through_sqlalchemy == []
    assert [s.split()[0] for s in on_writer] == ["BEGIN", "UPDATE", "INSERT", "INSERT", "COMMIT"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_post_that_fails_on_sqlite_rolls_back_and_the_next_post_takes_the_seq(
    service: Service, http: httpx.AsyncClient
) -> None:
    scenario = await make_session(http, ["ana", "bo"])
    first = (await scenario.chat("bo", "before")).json()
    before = await snapshot(scenario)
    async with service.database.sqlite_writer() as writer:
        assert writer is not None
        writer.execute(
            "CREATE TRIGGER refuse_chat BEFORE INSERT ON chat_messages "
            "BEGIN SELECT RAISE(ABORT, 'disk full, say'); END"
        )
        writer.commit()

    with pytest.raises(sqlite3.IntegrityError, match="disk full, say"):  # the app's 500
        await scenario.chat("bo", "refused by the trigger")

    async with service.database.sqlite_writer() as writer:
        assert writer is not None
        writer.execute("DROP TRIGGER refuse_chat")
        writer.commit()
    assert await snapshot(scenario) == before
    after = (await scenario.chat("bo", "after")).json()
    assert after["seq"] == first["seq"] + 1
