"""Database writes an answer makes beside its Slack calls, never in front of them.

Joining the thread (so follow-ups need no mention) and noting which messages an answer has
posted (so a take-over after a crash can replace them) are writes the reader's first words
need not wait for. In front of the model's request, at 200 answers at once on SQLite, the join
alone waited up to half a minute for the database. The database takes writes in turn, first
come first served (bot.core.store.db), so side writes run as tasks beside the answer, at most
``limit`` of them at once in the process: a burst of them never stands in the queue ahead of
the claims of new requests. Each answer waits for its own before it is done.

asyncio gives the tasks and the semaphore; what is written here is the rule "the newest list
of posted messages replaces one not yet written", so a long answer rolling into several
messages makes at most two of those writes at a time, not one per message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("teammate.slack.side_writes")

Write = Callable[[], Awaitable[None]]


class SideWrites:
    """The process's budget for side writes: at most ``limit`` database connections at once."""

    def __init__(self, limit: int = 2) -> None:
        self._slots = asyncio.Semaphore(limit)

    def for_answer(self) -> AnswerWrites:
        return AnswerWrites(self._slots)


class AnswerWrites:
    """One answer's side writes; :meth:`wait` when the answer is drawn."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self._slots = slots
        self._tasks: set[asyncio.Task[None]] = set()
        self._newest: dict[str, Write] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    def start(self, what: str, write: Write) -> None:
        """Run ``write`` beside the answer."""
        self._keep(asyncio.create_task(self._run(what, write)))

    def replace(self, what: str, write: Write) -> None:
        """Run ``write`` beside the answer; it replaces a write of ``what`` still waiting."""
        self._newest[what] = write
        writer = self._writers.get(what)
        if writer is None or writer.done():
            self._writers[what] = self._keep(asyncio.create_task(self._drain(what)))

    async def wait(self) -> None:
        """Until every side write of the answer is done (a failed one was logged)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def _keep(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _drain(self, what: str) -> None:
        while (write := self._newest.pop(what, None)) is not None:
            await self._run(what, write)

    async def _run(self, what: str, write: Write) -> None:
        try:
            async with self._slots:
                await write()
        except Exception:  # noqa: BLE001 - the answer is worth more than its bookkeeping
            log.warning("could not %s", what, exc_info=True)
