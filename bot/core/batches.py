"""Writes that go together: what is asked for while a write waits or runs goes in one write.

A burst of requests each wanting one small write (a claim, a claim marked done, a session
queued) costs one transaction per turn at the database instead of one per request: the first
caller starts a write; everyone who comes while it waits for its transaction (SQLite's one
writer, a pool connection) is in it, and whoever comes while it runs is in the next. By
default nothing waits on a timer, so a lone request is written at once; a process whose
callers do not wait for the write (a replica that only acknowledges) may let each batch
``linger`` a few milliseconds for company when requests are coming (one came within the
linger before it), which at a steady rate of single requests turns one transaction each into
one for several, while a request after a quiet spell is still written at once. asyncio has
no such primitive, and the database libraries batch only what one caller hands them at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Turn = TypeVar("Turn")


class Batches(Generic[Turn, Item, Result]):
    """``await put(item)`` is what ``write`` gave for that item. ``turn()`` opens the
    transaction; once it is open, ``write(transaction, items)`` gets every item waiting and
    returns one result per item, in order. If either raises, every caller in that batch gets
    the exception. With ``linger`` (seconds) the first item of a batch that comes within
    ``linger`` of the item before it waits that long for others before the turn is asked
    for."""

    def __init__(
        self,
        turn: Callable[[], AbstractAsyncContextManager[Turn]],
        write: Callable[[Turn, list[Item]], Awaitable[list[Result]]],
        linger: float = 0.0,
    ) -> None:
        self._turn = turn
        self._write = write
        self._linger = linger
        self._last_put = -linger
        self._coming = False
        """Whether the first item waiting came within ``linger`` of the one before it."""
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    def put(self, item: Item) -> asyncio.Future[Result]:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        now = loop.time()
        if not self._waiting:  # the first of a batch
            self._coming = now - self._last_put < self._linger
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        self._last_put = now
        return done

    async def _write_waiting(self) -> None:
        while self._waiting:
            if self._coming:  # the batch after one being written lingers too
                await asyncio.sleep(self._linger)
            batch: list[tuple[Item, asyncio.Future[Result]]] = []
            try:
                async with self._turn() as transaction:
                    batch, self._waiting = self._waiting, []  # all that came while it waited
                    results = await self._write(transaction, [item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - each caller raises it
                if not batch:
                    batch, self._waiting = self._waiting, []
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)
