"""What makes an answer's run a task's: its instructions, the ``update_plan`` tool, its budgets.

A pydantic-ai capability on the one agent, acting only on runs whose thread is a live task's
(:class:`~bot.core.tasks.live.LiveTasks`); every other answer is left as it was. Before each
model request it checks the task's budgets and its inbox (the tasks table, so a Stop or a cancel
from any process counts): a task whose time or tokens are used up, whose cost would pass its
limit, or that someone stopped, does not make the request. The run ends there,
at a step boundary, with a partial report that names the limit instead of the model's reply
(``SkipModelRequest``), so nothing is spent past the budget and the answer ends as any other.

Replies in the task's thread (steering) join the request as user messages the run keeps in its
history (``RunContext.enqueue``), so the model reads them at its next step.

The token check looks one request ahead: the next request sends all the last one sent, plus
its response and the tool results since (counted roughly), and grows at least as the last
one grew, so a task stops when the next request would pass its budget, not after it did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel
from pydantic_ai import RunContext, Tool, ToolReturn
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import SkipModelRequest
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestContext
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import FunctionToolset

from bot.core.deps import AnswerDeps
from bot.core.events import PlanStep, PlanUpdated
from bot.core.tasks.live import LiveTask, LiveTasks
from bot.core.tasks.report import partial_report

PLAN_TOOL = "update_plan"
PART_FRAMING_TOKENS = 30
TASK_INSTRUCTIONS = (
    "You are working on a task someone handed you with /task, on your own, in this thread. "
    f"First call {PLAN_TOOL} with the steps you will take; keep it current as you go (one "
    "step in_progress at a time, each marked done or skipped when it is). End with a report: "
    "what was done, what was not, and the sources you used."
)


class PlanStepIn(BaseModel):
    title: str
    status: Literal["pending", "in_progress", "done", "skipped"] = "pending"


@dataclass
class TaskCapability(AbstractCapability[AnswerDeps]):
    """Instructions, the plan tool and the budget checks of the runs that are tasks."""

    live: LiveTasks

    def get_instructions(self) -> Callable[[RunContext[AnswerDeps]], str]:
        def for_tasks(ctx: RunContext[AnswerDeps]) -> str:
            return TASK_INSTRUCTIONS if self._plans(ctx) else ""

        return for_tasks

    def get_toolset(self) -> FunctionToolset[AnswerDeps]:
        return FunctionToolset([Tool(self._update_plan, name=PLAN_TOOL, prepare=self._if_task)])

    async def before_model_request(
        self, ctx: RunContext[AnswerDeps], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        live = self.live.of(ctx.deps.scope)
        if live is None:
            return request_context
        usage, serving = ctx.usage, ctx.deps.answer.serving
        cost = serving.cost_usd(usage.input_tokens, usage.output_tokens)
        used = live.count(usage.input_tokens, usage.output_tokens, cost)
        if live.inbox is not None and live.stop_reason is None:
            live.stop_reason = await live.inbox.stop_requested(live.task.id)
        coming = live.next_request_tokens(usage.input_tokens, _added(request_context.messages))
        reason = live.stop_reason or _limit_reached(live, used, coming)
        if reason is None:
            await self._take_in(ctx, live)
            await live.changed()
            return request_context
        live.stop_reason = reason
        await live.changed()
        raise SkipModelRequest(ModelResponse(parts=[TextPart(partial_report(live.task, reason))]))

    async def _take_in(self, ctx: RunContext[AnswerDeps], live: LiveTask) -> None:
        """Give the run the replies in its thread it does not have yet (they stay in its
        history: a run resumed after an approval has them; one run again after a crash is
        given them again)."""
        if live.inbox is None:
            return
        replies = await live.inbox.steering(live.task.id)
        if not replies:
            return
        sent = _user_texts(ctx.messages)
        for reply in replies:
            if reply.prompt() not in sent:
                ctx.enqueue(reply.prompt())
        await live.inbox.taken([reply.id for reply in replies if not reply.taken])
        live.taken_in = replies

    async def _update_plan(
        self, ctx: RunContext[AnswerDeps], steps: list[PlanStepIn]
    ) -> ToolReturn:
        """Set the task's checklist, whole: every step with its status (pending, in_progress,
        done or skipped). Call it first with the plan, then whenever a step starts or ends."""
        plan = tuple(PlanStep(step.title, step.status) for step in steps)
        live = self.live.of(ctx.deps.scope)
        if live is not None:
            await live.set_plan(plan)
        return ToolReturn(return_value="Plan saved.", metadata=PlanUpdated(plan))

    async def _if_task(
        self, ctx: RunContext[AnswerDeps], tool: ToolDefinition
    ) -> ToolDefinition | None:
        return tool if self._plans(ctx) else None

    def _plans(self, ctx: RunContext[AnswerDeps]) -> bool:
        """Whether the run is a task's, on a model that can call the plan tool."""
        return ctx.deps.answer.serving.tools and self.live.of(ctx.deps.scope) is not None


def _user_texts(messages: list[ModelMessage]) -> set[str]:
    """The text of every user prompt the run has sent."""
    return {
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, UserPromptPart) and isinstance(part.content, str)
    }


def _added(messages: list[ModelMessage]) -> int:
    """A rough count of what this request sends that the last did not: the last response and
    the tool results after it (4 characters a token, and about 30 for the framing of each
    part: its type, id and name)."""
    added = 0
    for message in messages[-2:] if len(messages) > 2 else messages[-1:]:
        for part in message.parts:
            content = getattr(part, "content", None)
            if content is None:
                content = getattr(part, "args", "")
            text = content if isinstance(content, str) else json.dumps(content, default=str)
            added += len(text) // 4 + PART_FRAMING_TOKENS
    return added


def _limit_reached(live: LiveTask, used: int, coming: int) -> str | None:
    """Which limit stops the task before its next request (None: none); ``coming`` is the
    least the next request will cost (see :meth:`LiveTask.next_request_tokens`)."""
    budget, task = live.task.budget, live.task
    if live.elapsed >= budget.minutes * 60:
        return f"the time limit ({budget.minutes:g} minutes)"
    if used + coming > budget.tokens:
        return f"the token limit ({budget.tokens:,} tokens; {used:,} used)"
    if budget.cost_usd is not None and task.cost_usd is not None and used:
        per_token = task.cost_usd / used
        if task.cost_usd + per_token * coming > budget.cost_usd:
            return f"the cost limit (${budget.cost_usd:g}; ${task.cost_usd:.4f} spent)"
    return None
