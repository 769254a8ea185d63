"""What keeps a long run on track, as the capabilities the agent is given.

Every answer gets :class:`~bot.core.compaction.ContextKeeper` (its history kept inside the
window). A task's run also gets its working notes (:mod:`bot.core.tasks.notes`) and its own
request limit: pydantic-ai ends a run after 50 model requests unless told otherwise, right for
an answer to a question but not for a task, which its budgets (time, tokens, cost) bound;
:data:`TASK_REQUEST_LIMIT` is only there so a task that loops without spending stops too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability

from bot.core.compaction import ContextKeeper
from bot.core.deps import AnswerDeps
from bot.core.memory import ChannelMemory
from bot.core.tasks.live import LiveTasks
from bot.core.tasks.notes import TaskNotes

TASK_REQUEST_LIMIT = 2_000


@dataclass
class TaskRequestLimit(AbstractCapability[AnswerDeps]):
    """Lets a task's run make up to :data:`TASK_REQUEST_LIMIT` model requests."""

    live: LiveTasks

    async def before_run(self, ctx: RunContext[AnswerDeps]) -> None:
        limits = ctx.usage_limits
        if limits is None or self.live.of(ctx.deps.scope) is None:
            return
        if limits.request_limit is not None and limits.request_limit < TASK_REQUEST_LIMIT:
            limits.request_limit = TASK_REQUEST_LIMIT


def long_run_capabilities(
    tasks: LiveTasks, memory: ChannelMemory | None
) -> list[AbstractCapability[AnswerDeps]]:
    """The capabilities that keep runs on track, for the agent's list."""
    return [
        ContextKeeper(),
        TaskRequestLimit(tasks),
        *([TaskNotes(tasks, memory)] if memory is not None else []),
    ]
