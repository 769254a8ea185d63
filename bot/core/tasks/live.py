"""The tasks working now, found by the thread they work in.

An answer's run knows only its :class:`~bot.core.conversation.Scope`; the task capability
looks the scope's thread up here to learn whether the run is a task, and which: its budget,
what it has used, whether someone asked it to stop. What can come from another process (a
Stop, ``/task cancel``, a reply that steers it) is read from the task's :class:`TaskInbox`
(the tasks table) before each model request. ``on_change`` tells the Slack side to redraw the
card (the core knows nothing of Slack).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.conversation import Scope
from bot.core.events import PlanStep
from bot.core.tasks.model import Steering, Task

Changed = Callable[["LiveTask"], Awaitable[None]]


class TaskInbox(Protocol):
    """Where a task's stop requests and steering replies wait for its run, whichever process
    took them in (:class:`~bot.core.store.tasks.TaskStore`)."""

    async def stop_requested(self, task_id: str) -> str | None: ...

    async def steering(self, task_id: str) -> list[Steering]: ...

    async def taken(self, ids: list[int]) -> None: ...


@dataclass(slots=True)
class LiveTask:
    """A task while it works. ``stop_reason`` is set once it must stop at the next step."""

    task: Task
    on_change: Changed | None = None
    inbox: TaskInbox | None = None
    stop_reason: str | None = None
    input_tokens: list[int] = field(default_factory=list)
    """The input tokens of each model request of the current run (what the provider said)."""
    base_tokens: int = 0
    """Tokens of the task's runs before the current one (the part before an approval)."""
    base_cost: float | None = None
    taken_in: list[Steering] = field(default_factory=list)
    """The replies in the thread the run has been given."""

    @property
    def elapsed(self) -> float:
        """Seconds since the work began (its stored start: a restart does not reset it)."""
        return time.time() - (self.task.started_at or time.time())

    def new_run(self) -> None:
        """A further run of the task begins (after an approval): what it spends adds to what
        the runs before it spent."""
        self.base_tokens, self.base_cost = self.task.tokens_used, self.task.cost_usd
        self.input_tokens.clear()

    def count(self, input_tokens: int, output_tokens: int, cost_usd: float | None) -> int:
        """Note the current run's spend so far; the task's tokens in all. A run that starts
        again after a crash counts up from what was stored, never below it."""
        used = max(self.task.tokens_used, self.base_tokens + input_tokens + output_tokens)
        self.task.tokens_used = used
        if cost_usd is not None:
            self.task.cost_usd = max(self.task.cost_usd or 0.0, (self.base_cost or 0.0) + cost_usd)
        return used

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

    def add(self, live: LiveTask) -> LiveTask:
        """Register ``live``, or return the task already registered for its thread."""
        return self._by_thread.setdefault((live.task.channel, live.task.card_ts or ""), live)

    def remove(self, live: LiveTask) -> None:
        self._by_thread.pop((live.task.channel, live.task.card_ts or ""), None)

    def of(self, scope: Scope) -> LiveTask | None:
        return self._by_thread.get((scope.channel_id, scope.thread_ts))

    def by_short_id(self, short_id: str) -> LiveTask | None:
        return next((t for t in self._by_thread.values() if t.task.short_id == short_id), None)
