"""Stored data past its retention goes: every purge runs once at start, then every hour.

Each purge is one DELETE over an indexed time column, and deleting what is already gone does
nothing, so every replica may run them. A plain asyncio loop rather than a scheduler library:
it is one timer for a few statements. A purge that fails is logged and tried again next time;
it never stops the bot.

Usage::

    retention = Retention({"reasoning": reasoning_store.purge})
    await retention.start()   # purges once, then keeps purging in the background
    ...
    await retention.stop()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger("teammate.retention")

Purge = Callable[[], Awaitable[int]]
EVERY_SECONDS = 3600.0


class Retention:
    def __init__(self, purges: Mapping[str, Purge], every: float = EVERY_SECONDS) -> None:
        self.purges = dict(purges)
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def purge(self) -> dict[str, int]:
        """Run every purge once; how many rows each deleted (a failed one is left out)."""
        deleted: dict[str, int] = {}
        for name, purge in self.purges.items():
            try:
                deleted[name] = await purge()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.warning("purging old %s failed", name, exc_info=True)
                continue
            if deleted[name]:
                log.info("purged %d %s rows past their retention", deleted[name], name)
        return deleted

    async def start(self) -> None:
        """Purge now, then every ``every`` seconds in the background."""
        await self.purge()
        if self._task is None:
            self._task = asyncio.create_task(self._forever(), name="retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.purge()
