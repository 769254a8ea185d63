"""The ``start_task`` tool: the model hands a request over as a task when it would take more
than a few steps.

An ordinary answer in a channel may call it instead of working through a long job inside one
reply: the task gets its card in the channel, works in the card's thread within the default
budget (or what the model asks, within the caps) and reports to the person who asked, as
``/task <goal>`` would. The tool returns as soon as the card is posted, with the task's short
id and where it runs, so the model can tell the person in its reply.

The core knows nothing of Slack: a :class:`TaskStarter` (bot/slack/task_handover.py) posts the
card and queues the work. The tool is offered only where a task can be posted (a channel, not a
DM), only on models that call tools, and never to a run that already is a task's (the inverse
of ``update_plan``'s offer in :mod:`bot.core.tasks.capability`).

It needs no approval: it spends budget, within the limits ``/task`` has and the person can
cancel (``/task cancel ID``), but it writes nothing outside Teammate's own messages and reaches
nothing outside the workspace; what the task then does goes through the same approvals as any
answer.

Each call is started once: its key is the answer's key (its claim's) and the tool call's id,
so an answer run again with the same call (a durable replay) finds the task that call started
instead of starting a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic_ai import RunContext
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.tools import ToolDefinition

from bot.core.conversation import Scope
from bot.core.deps import AnswerDeps
from bot.core.tasks.live import LiveTasks
from bot.core.tools.registry import ToolDef
from bot.core.tools.result import ToolResult

HANDOVER_TOOL = "start_task"
NO_TASKS_IN = frozenset({"dm", "group_dm"})
"""Where a task cannot be posted: its card is a message in a channel, for the channel."""


@dataclass(frozen=True, slots=True)
class Handover:
    """One call of the tool: who asked, where, and what the task should do.

    ``key`` names the call (``handover:<answer key>:<tool call id>``): the same key, the same
    task."""

    key: str
    scope: Scope
    goal: str
    minutes: float | None = None
    tokens: int | None = None


@dataclass(frozen=True, slots=True)
class HandedOver:
    """The task a call started (or had started): its short id and where it works."""

    short_id: str
    where: str
    again: bool = False
    """True when the call had started it already (the answer ran again)."""


class Refused(Exception):
    """The task could not start; ``str()`` is the line the model reads (an option over a cap,
    Teammate not in the channel)."""


class TaskStarter(Protocol):
    async def start(self, handover: Handover) -> HandedOver:
        """Post the task's card and queue its work (or find the task ``handover.key`` started);
        returns once the card is posted. Raises :class:`Refused`."""
        ...


def handover_key(deps: AnswerDeps, tool_call_id: str) -> str:
    """The call's key: the answer's own key, or, for a run that has none (resumed after an
    approval), its thread."""
    answer = deps.key or f"{deps.scope.channel_id}:{deps.scope.thread_ts}"
    return f"handover:{answer}:{tool_call_id}"


def handover_tool(starter: TaskStarter, live: LiveTasks) -> ToolDef:
    """``start_task`` over ``starter``; ``live`` tells a task's run apart (it is not offered
    there)."""

    async def start_task(
        ctx: RunContext[AnswerDeps],
        goal: str,
        minutes: float | None = None,
        tokens: int | None = None,
    ) -> ToolResult:
        """Hand this request over as a task that works on its own, when doing it well takes
        more than a few steps (many lookups, reading many threads or documents, a long report)
        rather than one answer. The task posts a card in this channel, works in the card's
        thread, keeps a checklist there and reports to the person who asked; they can cancel
        it. Do not use it for a question you can answer now. After calling it, tell the person
        the task's id and that they can follow it in the card's thread.

        Args:
            goal: What the task should do, complete in itself, as the person would put it
                (the task reads only this, not this conversation).
            minutes: Leave it out for the default time limit; set it only when the person
                asked for one.
            tokens: Leave it out for the default token budget; set it only when the person
                asked for one.
        """
        wanted = goal.strip()
        if not wanted:
            raise ToolFailed("Say what the task should do in `goal`.")
        handover = Handover(
            handover_key(ctx.deps, ctx.tool_call_id or ""),
            ctx.deps.scope,
            wanted,
            minutes=minutes if minutes and minutes > 0 else None,
            tokens=tokens if tokens and tokens > 0 else None,
        )
        try:
            task = await starter.start(handover)
        except Refused as refused:
            raise ToolFailed(str(refused)) from None
        said = "was already started for this request" if task.again else "is started"
        return ToolResult(
            f"Task `{task.short_id}` {said}: it works in {task.where} and reports there to "
            f"the person who asked. Tell them its id (`{task.short_id}`) and to follow it in "
            f"the card's thread; `/task cancel {task.short_id}` stops it.",
            summary=f"Task `{task.short_id}` started",
        )

    async def not_in_tasks(
        ctx: RunContext[AnswerDeps], tool: ToolDefinition
    ) -> ToolDefinition | None:
        """Not to a task's own run, nor on a model (the fallback's) that cannot call tools."""
        if not ctx.deps.answer.serving.tools or live.of(ctx.deps.scope) is not None:
            return None
        return tool

    return ToolDef(
        start_task,
        risk="read",
        name=HANDOVER_TOOL,
        title=lambda args: "Handing over a task",
        offered=lambda scope: scope.channel_kind not in NO_TASKS_IN,
        prepare=not_in_tasks,
    )
