"""Asks of one loop turn answered together (services/batching.py)."""

from __future__ import annotations

import asyncio

import pytest

from studygroups.services.batching import PerTurn


async def test_the_asks_of_one_turn_are_answered_by_one_call_each_with_its_own_answer() -> None:
    calls: list[list[str]] = []

    async def answer(keys: list[str]) -> list[str | BaseException]:
        calls.append(keys)
        return [key.upper() if key != "bad" else ValueError(key) for key in keys]

    per_turn: PerTurn[str, str] = PerTurn(answer)
    answers = await asyncio.gather(
        per_turn.ask("a"),
        per_turn.ask("b"),
        per_turn.ask("a"),
        per_turn.ask("bad"),
        return_exceptions=True,
    )

    assert list(answers[:3]) == ["A", "B", "A"]
    assert isinstance(answers[3], ValueError)
    assert calls == [["a", "b", "bad"]]  # equal keys asked once
    assert await per_turn.ask("c") == "C"  # a later turn, a call of its own
    assert calls[-1] == ["c"]


async def test_the_call_for_a_turns_asks_goes_out_at_the_very_next_turn() -> None:
    """Under a reconnect storm a loop turn lasts tens of milliseconds: a join's reads must not
    wait a turn more than they need to."""
    calls: list[list[str]] = []

    async def answer(keys: list[str]) -> list[str | BaseException]:
        calls.append(keys)
        return list(keys)

    per_turn: PerTurn[str, str] = PerTurn(answer)
    asks = [asyncio.ensure_future(per_turn.ask(key)) for key in ("a", "b")]
    await asyncio.sleep(0)  # the asks' own turn: each task asks
    assert calls == []
    await asyncio.sleep(0)  # the next turn

    assert calls == [["a", "b"]]
    assert await asyncio.gather(*asks) == ["a", "b"]


async def test_a_failed_call_fails_every_ask_of_its_turn() -> None:
    async def answer(keys: list[str]) -> list[str | BaseException]:
        raise ConnectionError("down")

    per_turn: PerTurn[str, str] = PerTurn(answer)
    answers = await asyncio.gather(per_turn.ask("a"), per_turn.ask("b"), return_exceptions=True)

    assert [type(a) for a in answers] == [ConnectionError, ConnectionError]


async def test_an_ask_cancelled_meanwhile_leaves_the_others_answered() -> None:
    release = asyncio.Event()

    async def answer(keys: list[str]) -> list[str | BaseException]:
        await release.wait()
        answers: list[str | BaseException] = [*keys]
        return answers

    per_turn: PerTurn[str, str] = PerTurn(answer)
    cancelled = asyncio.create_task(per_turn.ask("a"))
    kept = asyncio.create_task(per_turn.ask("a"))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    release.set()

    assert await kept == "a"
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def test_a_call_cancelled_before_it_went_out_cancels_its_asks_not_later_ones() -> None:
    """At a shutdown the loop cancels every task, a turn's call among them: its asks must not
    wait forever, nor keep later asks from being sent."""

    async def answer(keys: list[str]) -> list[str | BaseException]:
        return [key.upper() for key in keys]

    per_turn: PerTurn[str, str] = PerTurn(answer)
    ask = asyncio.ensure_future(per_turn.ask("a"))
    await asyncio.sleep(0)  # asked; its call starts at the next turn
    for call in list(per_turn._running):  # the call of that turn, as a shutdown cancels it
        call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(ask, 1)
    assert await asyncio.wait_for(per_turn.ask("b"), 1) == "B"
