"""Work in flight: at most ``limit`` answers at once, and a shutdown that lets it finish.

Bolt starts listener functions with asyncio.ensure_future and keeps no handle on them, and
it would start as many as Slack sends. A burst beyond what the process can work on waits here
for a slot (its claim stays held, so no replica takes it) instead of crowding the event loop
and the database pool that acknowledging new requests depends on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class WorkTracker:
    def __init__(self, limit: int = 100) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    @property
    def active(self) -> int:
        """Requests being handled: answers running or waiting for a slot, and quick work."""
        return self._active

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        """Counts the body as work in flight, so a shutdown waits for it."""
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    def slot(self) -> asyncio.Semaphore:
        """One of the ``limit`` places an answer takes while it is worked on."""
        return self._slots

    async def drain(self, grace_seconds: float) -> bool:
        """Stop taking work and wait for what is running; False if time ran out."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
            return True
        except TimeoutError:
            return False
