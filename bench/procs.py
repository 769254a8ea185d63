"""Child processes for the parts of a benchmark that must not share an event loop.

On a 2-core machine a load generator inside the server's event loop would slow the very thing
it measures, so the server under test, the world it talks to and the load generator each get
a process. A child runs one asyncio program: it sends one message when it is ready (ports,
secrets, prepared requests), answers the parent's questions, and on "stop" cleans up and sends
a last message. Processes are spawned, not forked, so no event loop state leaks across.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

_SPAWN = multiprocessing.get_context("spawn")
STOP = "stop"


class ChildFailed(RuntimeError):
    """A child process ended, or said it could not start, before it answered."""


class Child:
    """A spawned process and the pipe to it (the parent's side)."""

    def __init__(self, target: Callable[..., None], *args: Any, name: str) -> None:
        self.conn, child_end = _SPAWN.Pipe()
        self.process = _SPAWN.Process(
            target=target, args=(child_end, *args), name=name, daemon=True
        )
        self.name = name

    def _receive(self, timeout: float) -> Any:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.name} did not answer within {timeout:.0f} s")
        try:
            return self.conn.recv()
        except EOFError:
            self.process.join(5)
            raise ChildFailed(
                f"{self.name} exited (code {self.process.exitcode}) before answering"
            ) from None

    async def start(self, within: float = 60.0) -> Any:
        """Start the process; returns its ready message (raises ChildFailed if it says
        {"error": ...} instead)."""
        self.process.start()
        ready = await asyncio.to_thread(self._receive, within)
        if isinstance(ready, dict) and "error" in ready:
            await asyncio.to_thread(self.process.join, 10)
            raise ChildFailed(f"{self.name} could not start: {ready['error']}")
        return ready

    async def ask(self, message: Any, within: float = 60.0) -> Any:
        self.conn.send(message)
        return await asyncio.to_thread(self._receive, within)

    async def stop(self, within: float = 60.0) -> Any:
        """Ask the child to stop; returns its last message (None if it had to be killed)."""
        last = None
        try:
            if self.process.is_alive():
                last = await self.ask(STOP, within)
        except (TimeoutError, EOFError, BrokenPipeError):
            pass
        await asyncio.to_thread(self.process.join, within)
        if self.process.is_alive():
            self.process.terminate()
            await asyncio.to_thread(self.process.join, 5)
        return last

    async def kill(self) -> None:
        """End the child at once (its unfinished work is abandoned, not awaited)."""
        self.process.terminate()
        await asyncio.to_thread(self.process.join, 10)


async def answer_until_stopped(
    conn: Connection, handle: Callable[[Any], Awaitable[Any]] | None = None
) -> None:
    """The child's side: answer each message with ``handle`` until "stop" (or the parent goes)."""
    while True:
        try:
            message = await asyncio.to_thread(conn.recv)
        except EOFError:
            return
        if message == STOP:
            return
        conn.send(await handle(message) if handle is not None else None)
