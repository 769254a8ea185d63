"""The tool registry's guard: a tool that raises, hangs or returns megabytes never ends the
answer; the model reads a clear error or a cut result, and the step says what happened."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic_ai import RunContext
from pydantic_ai.messages import ModelMessage, ModelRequest, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall

from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.deps import AnswerDeps
from bot.core.events import Done, Source, ToolFinished, ToolStarted
from bot.core.prompts import Prompts
from bot.core.tools.guard import DEFAULT_OUTPUT_CAP
from bot.core.tools.registry import ToolDef, ToolRegistry
from bot.core.tools.result import ToolResult
from tests.core.helpers import (
    ask,
    collect,
    scope,
    scripted_service,
    terminal,
    text_of,
)


class CallsThenEchoes:
    """A model that calls ``tool`` once, then answers with what the tool returned to it."""

    def __init__(self, tool: str, args: dict[str, Any] | None = None) -> None:
        self.tool = tool
        self.args = args or {}
        self.returned: list[ToolReturnPart] = []

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        returns = [
            part
            for message in messages
            if isinstance(message, ModelRequest)
            for part in message.parts
            if isinstance(part, ToolReturnPart)
        ]
        if not returns:
            yield {0: DeltaToolCall(self.tool, json.dumps(self.args), tool_call_id="call_1")}
            return
        self.returned = returns
        yield f"The tool said: {returns[-1].model_response_str()[:60]}"


def answer_with(
    catalog: Catalog, prompts: Prompts, registry: ToolRegistry, model: CallsThenEchoes
) -> AgentService:
    return scripted_service(catalog, prompts, model, toolbox=registry)


def step_of(events: list[Any]) -> tuple[ToolStarted, ToolFinished]:
    (started,) = [e for e in events if isinstance(e, ToolStarted)]
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    return started, finished


async def test_a_tool_that_raises_gives_the_model_a_clear_error(
    catalog: Catalog, prompts: Prompts
) -> None:
    async def deploy(ctx: RunContext[AnswerDeps]) -> str:
        """Deploy the service."""
        raise RuntimeError("connection refused by deploy host (token xoxb-1234-5678-abcdefgh)")

    registry = ToolRegistry()
    registry.add(ToolDef(deploy, title=lambda args: "Deploying"))
    model = CallsThenEchoes("deploy")
    events = await collect(answer_with(catalog, prompts, registry, model), ask())
    assert isinstance(terminal(events), Done)
    started, finished = step_of(events)
    assert started.title == "Deploying"
    assert finished.outcome == "failed"
    told = model.returned[-1].model_response_str()
    assert "The tool failed: connection refused by deploy host" in told
    assert "xoxb-" not in told and "Traceback" not in told
    assert text_of(events).startswith("The tool said:")


async def test_a_tool_that_hangs_times_out_and_the_answer_goes_on(
    catalog: Catalog, prompts: Prompts
) -> None:
    async def slow_report(ctx: RunContext[AnswerDeps]) -> str:
        """Build the weekly report."""
        await asyncio.sleep(30)
        return "never"

    registry = ToolRegistry(tool_timeout=30)
    registry.add(ToolDef(slow_report, timeout=0.2))
    model = CallsThenEchoes("slow_report")
    events = await collect(answer_with(catalog, prompts, registry, model), ask())
    assert isinstance(terminal(events), Done)
    _, finished = step_of(events)
    assert finished.outcome == "timed_out"
    assert "Timed out after 0.2 seconds." in model.returned[-1].model_response_str()


async def test_a_huge_result_is_cut_and_says_so(catalog: Catalog, prompts: Prompts) -> None:
    async def dump_logs(ctx: RunContext[AnswerDeps], lines: int = 10) -> str:
        """The last lines of the service log."""
        return "x" * 1_000_000

    registry = ToolRegistry()
    registry.add(ToolDef(dump_logs))
    model = CallsThenEchoes("dump_logs", {"lines": 5})
    events = await collect(answer_with(catalog, prompts, registry, model), ask())
    assert isinstance(terminal(events), Done)
    _, finished = step_of(events)
    assert finished.outcome == "success"
    told = model.returned[-1].model_response_str()
    assert len(told) < DEFAULT_OUTPUT_CAP + 300 < 512_000
    assert "[The result was cut: the first 40,000 of 1,000,000 characters are shown." in told


async def test_tools_serve_answer_after_answer_each_with_its_own_arguments(
    catalog: Catalog, prompts: Prompts
) -> None:
    """The registry builds each tool once; every answer still calls it afresh."""

    async def lookup(ctx: RunContext[AnswerDeps], ticket: str) -> str:
        """Look a ticket up."""
        return f"ticket {ticket} is open"

    registry = ToolRegistry()
    registry.add(ToolDef(lookup))
    for ticket in ("T-1", "T-2", "T-3"):
        model = CallsThenEchoes("lookup", {"ticket": ticket})
        events = await collect(answer_with(catalog, prompts, registry, model), ask())
        assert isinstance(terminal(events), Done)
        assert text_of(events) == f"The tool said: ticket {ticket} is open"


async def test_a_result_carries_its_summary_and_sources_to_the_step(
    catalog: Catalog, prompts: Prompts
) -> None:
    async def find_runbook(ctx: RunContext[AnswerDeps], topic: str) -> ToolResult:
        """Find the runbook for a topic."""
        return ToolResult(
            text=f"Runbook for {topic}: restart the worker.",
            summary="1 runbook found",
            sources=(Source("Deploy runbook", "https://wiki.example/deploy"),),
        )

    registry = ToolRegistry()
    registry.add(ToolDef(find_runbook, title=lambda args: f"Looking up {args['topic']}"))
    model = CallsThenEchoes("find_runbook", {"topic": "deploys"})
    events = await collect(answer_with(catalog, prompts, registry, model), ask())
    started, finished = step_of(events)
    assert started.title == "Looking up deploys"
    assert finished.summary == "1 runbook found"
    assert finished.sources == (Source("Deploy runbook", "https://wiki.example/deploy"),)
    assert "restart the worker" in text_of(events)


def test_tools_are_offered_where_they_say_and_names_are_unique() -> None:
    async def memory(ctx: RunContext[AnswerDeps]) -> str:
        """Notes."""
        return ""

    registry = ToolRegistry()
    not_shared = lambda where: where.channel_kind != "shared"  # noqa: E731
    registry.add(ToolDef(memory, risk="write", offered=not_shared))
    with pytest.raises(ValueError, match="already registered"):
        registry.add(ToolDef(memory))
    assert registry.risk("memory") == "write"
    assert registry.risk("unknown_tool") == "external"
    here = scope()
    assert registry.names(here) == ["memory"]
    assert len(registry.toolsets(here)) == 1
