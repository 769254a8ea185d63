"""The tasks working now, found by the thread they work in.

An answer's run knows only its :class:`~bot.core.conversation.Scope`; the task capability
looks the scope's thread up here to learn whether the run is a task, and which: its budget,
what it has used, whether someone cancelled it. ``on_change`` tells the Slack side to redraw
the card (the core knows nothing of Slack).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.conversation import Scope
from bot.core.events import PlanStep
from bot.core.tasks.model import Task

Changed = Callable[["LiveTask"], Awaitable[None]]


@dataclass(slots=True)
class LiveTask:
    """A task while it works. ``stop_reason`` is set once it must stop at the next step."""

    task: Task
    on_change: Changed | None = None
    started: float = field(default_factory=time.monotonic)
    stop_reason: str | None = None
    input_tokens: list[int] = field(default_factory=list)
    """The input tokens of each model request so far (what the provider reported)."""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def next_request_tokens(self, input_so_far: int, added: int) -> int:
        """The least the next request should cost, given the run's input tokens so far and a
        rough count of what it adds: the last request's input grown by ``added`` or by as much
        as the last one grew, whichever is more, and a token of output."""
        counted = sum(self.input_tokens)
        if input_so_far > counted:
            self.input_tokens.append(input_so_far - counted)
        last = self.input_tokens[-1] if self.input_tokens else 0
        grew = last - self.input_tokens[-2] if len(self.input_tokens) > 1 else 0
        return last + max(added, grew) + 1

    async def set_plan(self, steps: tuple[PlanStep, ...]) -> None:
        self.task.plan = steps
        await self.changed()

    async def changed(self) -> None:
        if self.on_change is not None:
            await self.on_change(self)


class LiveTasks:
    """The running tasks of this process, by (channel, thread)."""

    def __init__(self) -> None:
        self._by_thread: dict[tuple[str, str], LiveTask] = {}

    def add(self, live: LiveTask) -> None:
        self._by_thread[(live.task.channel, live.task.card_ts or "")] = live

    def remove(self, live: LiveTask) -> None:
        self._by_thread.pop((live.task.channel, live.task.card_ts or ""), None)

    def of(self, scope: Scope) -> LiveTask | None:
        return self._by_thread.get((scope.channel_id, scope.thread_ts))

    def by_short_id(self, short_id: str) -> LiveTask | None:
        return next((t for t in self._by_thread.values() if t.task.short_id == short_id), None)
