"""Answers the sandbox keeps back: a Web API call takes effect, and its answer waits.

Slack can post a message and the app never hear back (the connection drops, the process dies
before it reads the answer). A test holds the answers to the calls it names, sees the call
take effect, kills the bot while it waits, and releases the hold; the bot never learned the
call's result, as after a real crash at that point.

Usage::

    with sandbox.holding("chat.postMessage", lambda args: "done" in args.get("text", "")) as held:
        ...
        await held.seen(20)  # the message is in the thread; the bot waits for its answer
        bot.send_signal(signal.SIGKILL)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Match = Callable[[dict[str, Any]], bool]


class Hold:
    """The answers to the calls of ``method`` whose arguments ``match``, kept back until
    :meth:`release`."""

    def __init__(self, method: str, match: Match) -> None:
        self.method = method
        self.match = match
        self.calls: list[dict[str, Any]] = []
        """The arguments of each call held, in order."""
        self._held = asyncio.Event()
        self._released = asyncio.Event()

    async def seen(self, within: float) -> dict[str, Any]:
        """The first call held, once one is (raises TimeoutError after ``within`` seconds)."""
        async with asyncio.timeout(within):
            await self._held.wait()
        return self.calls[0]

    def release(self) -> None:
        self._released.set()

    async def keep(self, args: dict[str, Any]) -> None:
        self.calls.append(args)
        self._held.set()
        await self._released.wait()


class Holds:
    """Every hold in place; the Web API asks it before it answers a call that took effect."""

    def __init__(self) -> None:
        self._holds: list[Hold] = []

    def add(self, hold: Hold) -> None:
        self._holds.append(hold)

    def remove(self, hold: Hold) -> None:
        hold.release()
        self._holds.remove(hold)

    async def keep_back(self, method: str, args: dict[str, Any]) -> None:
        """Wait for the release of the first hold on this call, if one matches."""
        for hold in self._holds:
            if hold.method == method and hold.match(args):
                await hold.keep(args)
                return
