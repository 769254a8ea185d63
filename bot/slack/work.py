"""Tracks answers in flight, so a shutdown can let them finish instead of cutting them off.

Bolt starts listener functions with asyncio.ensure_future and keeps no handle on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class WorkTracker:
    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    @property
    def active(self) -> int:
        return self._active

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def drain(self, grace_seconds: float) -> bool:
        """Stop taking work and wait for what is running; False if time ran out."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
            return True
        except TimeoutError:
            return False
