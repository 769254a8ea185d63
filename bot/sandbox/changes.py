"""An in-memory feed of state changes: lets tests wait without sleeping, and a UI follow along.

Every change gets a sequence number. `wait_for` re-checks a predicate after each change;
`subscribe()` yields change records to any number of readers (a browser UI can turn them
into Server-Sent Events). A reader that falls far behind loses old records, never blocks
the sandbox.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

Predicate = Callable[[], Any | Awaitable[Any]]

_QUEUE_LIMIT = 10_000


class Subscription:
    """An async iterator of change records; close it (or use `async with`) when done."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        feed._queues.add(self.queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self.queue not in self._feed._queues:
            raise StopAsyncIteration
        return await self.queue.get()

    async def aclose(self) -> None:
        self._feed._queues.discard(self.queue)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ChangeFeed:
    """Publishes change records and wakes whoever waits for them."""

    def __init__(self) -> None:
        self.seq = 0
        self._event = asyncio.Event()
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Records a change; safe to call from synchronous code on the loop's thread."""
        self.seq += 1
        record = {"seq": self.seq, "kind": kind, "t": time.monotonic(), **data}
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(record)
        self._event.set()
        self._event = asyncio.Event()

    def subscribe(self) -> Subscription:
        """Every change published from now on (registered at once, not on first read)."""
        return Subscription(self)

    async def wait_for(self, predicate: Predicate, timeout: float = 10.0) -> Any:  # noqa: ASYNC109
        """Returns the predicate's first truthy value, re-checking after every change.

        Raises TimeoutError when it is still falsy after `timeout` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            waiter = self._event
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            try:
                await asyncio.wait_for(waiter.wait(), min(remaining, 0.5))
            except TimeoutError:
                continue
