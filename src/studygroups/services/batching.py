"""Asks made in one turn of the event loop, answered together.

After a restart hundreds of joins arrive within a second (the reconnect storm), and each one's
reads cost more in their round trip and per-call overhead than in the database or Redis. A
`PerTurn` collects the asks of one loop turn and answers them with one call at the start of
the next: one statement, one pipeline. Equal keys asked in the same turn share one answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


class PerTurn(Generic[K, R]):
    """`answer(keys)` gives each key's answer, in order, or the exception that key raises; if
    it raises, every ask of its turn raises that."""

    def __init__(self, answer: Callable[[list[K]], Awaitable[Sequence[R | BaseException]]]) -> None:
        self._answer = answer
        self._asks: dict[K, list[asyncio.Future[R]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def ask(self, key: K) -> R:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[R] = loop.create_future()
        asks = self._asks
        first = not asks
        asks.setdefault(key, []).append(answer)
        if first:
            # A task's first step runs in the next turn, after this turn's other asks: the call
            # goes out then. (Scheduling a callback that creates the task cost a turn more,
            # and under a storm a turn is tens of milliseconds.)
            task = loop.create_task(self._settle(asks))
            self._running.add(task)
            task.add_done_callback(partial(self._settled, asks))
        return await answer

    def _settled(self, asks: dict[K, list[asyncio.Future[R]]], task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._asks is asks:  # cancelled before its first step: the next ask starts anew
            self._asks = {}
        for waiting in (future for futures in asks.values() for future in futures):
            if not waiting.done():
                waiting.cancel()  # its call was cancelled: so is the ask

    async def _settle(self, asks: dict[K, list[asyncio.Future[R]]]) -> None:
        if self._asks is asks:
            self._asks = {}  # asks from now on: the next call
        keys = list(asks)
        try:
            answers = await self._answer(keys)
        except Exception as error:  # noqa: BLE001  # every ask raises it, as its own call would
            answers = [error] * len(keys)
        for key, answer in zip(keys, answers, strict=True):
            for waiting in asks[key]:
                if waiting.done():  # its asker was cancelled
                    continue
                if isinstance(answer, BaseException):
                    waiting.set_exception(answer)
                else:
                    waiting.set_result(answer)
