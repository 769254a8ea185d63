"""Translate pydantic-ai's stream events into the core's own :mod:`bot.core.events`.

Kept apart from the agent so the mapping can be tested with hand-made events, and so pydantic-ai
types stop here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_ai.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    NativeToolCallPart,
    NativeToolReturnPart,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ThinkingPart,
    ThinkingPartDelta,
    ToolCallPart,
)

from bot.core.events import (
    AgentEvent,
    PlanUpdated,
    Source,
    TextDelta,
    ThinkingDelta,
    ToolFinished,
    ToolOutcome,
    ToolStarted,
)
from bot.core.tasks.capability import PLAN_TOOL
from bot.core.tools import web

PART_SEPARATOR = "\n\n"


class EventMapper:
    """Maps one run's events. Stateful: text parts after the first are set off by a blank line,
    and open tool calls are counted (a running tool is not a stalled stream)."""

    def __init__(self, title: Callable[[str, dict[str, Any]], str] | None = None) -> None:
        self._title = title
        self._text_parts: set[int] = set()
        self._separate_next: set[int] = set()
        self._open_tools: set[str] = set()
        self._earlier_text = False

    @property
    def tool_running(self) -> bool:
        return bool(self._open_tools)

    def map(self, event: object) -> list[AgentEvent]:
        """The core events for one pydantic-ai event (often none)."""
        if isinstance(event, PartStartEvent):
            return self._part_start(event)
        if isinstance(event, PartDeltaEvent):
            return self._part_delta(event)
        if isinstance(event, PartEndEvent) and isinstance(event.part, NativeToolCallPart):
            return self._server_call(event.part)
        if isinstance(event, FunctionToolCallEvent):
            # The model's next response numbers its parts from 0 again: text it writes after
            # the tool is a new part, set off from what came before.
            self._earlier_text = self._earlier_text or bool(self._text_parts)
            self._text_parts.clear()
            part = event.part
            self._open_tools.add(part.tool_call_id)
            if part.tool_name == PLAN_TOOL:
                return []  # the plan shows as the checklist when it is saved
            args = _args(part)
            title = self._title(part.tool_name, args) if self._title else ""
            return [
                ToolStarted(call_id=part.tool_call_id, name=part.tool_name, args=args, title=title)
            ]
        if isinstance(event, FunctionToolResultEvent):
            result = event.part
            self._open_tools.discard(result.tool_call_id)
            if isinstance(result.metadata, PlanUpdated):
                return [result.metadata]
            content = result.model_response_str(wrap_if_error=False)
            summary, sources = _step_info(result.metadata, content)
            return [
                ToolFinished(
                    call_id=result.tool_call_id,
                    name=result.tool_name,
                    outcome=_outcome(result.outcome, content),
                    summary=summary,
                    sources=sources,
                )
            ]
        return []

    def _part_start(self, event: PartStartEvent) -> list[AgentEvent]:
        part = event.part
        if isinstance(part, TextPart):
            if event.index not in self._text_parts:
                if self._text_parts or self._earlier_text:
                    self._separate_next.add(event.index)
                self._text_parts.add(event.index)
            return self._text(event.index, part.content)
        if isinstance(part, ThinkingPart) and part.content:
            return [ThinkingDelta(part.content)]
        if isinstance(part, NativeToolReturnPart) and web.is_web_tool(part.tool_name):
            self._open_tools.discard(part.tool_call_id)
            outcome, summary, sources = web.step_result(part.tool_name, part.content)
            return [ToolFinished(part.tool_call_id, part.tool_name, outcome, summary, sources)]
        return []

    def _server_call(self, part: NativeToolCallPart) -> list[AgentEvent]:
        """A call the provider runs itself (web search, web fetch), complete with its args;
        its result comes back later in the same response."""
        if not web.is_web_tool(part.tool_name):
            return []
        self._open_tools.add(part.tool_call_id)
        args = part.args_as_dict()
        title = web.step_title(part.tool_name, args)
        return [ToolStarted(part.tool_call_id, part.tool_name, args, title=title)]

    def _part_delta(self, event: PartDeltaEvent) -> list[AgentEvent]:
        delta = event.delta
        if isinstance(delta, TextPartDelta):
            return self._text(event.index, delta.content_delta)
        if isinstance(delta, ThinkingPartDelta) and delta.content_delta:
            return [ThinkingDelta(delta.content_delta)]
        return []

    def _text(self, index: int, text: str) -> list[AgentEvent]:
        if not text:
            return []
        if index in self._separate_next:
            self._separate_next.discard(index)
            text = PART_SEPARATOR + text.lstrip("\n")
        return [TextDelta(text)]


def _args(part: ToolCallPart) -> dict[str, Any]:
    # Malformed JSON comes back as {"INVALID_JSON": raw} rather than raising.
    return part.args_as_dict()


def _outcome(outcome: str, content: str) -> ToolOutcome:
    """pydantic-ai's outcome in the core's words; a timeout is a failure whose text says so."""
    if outcome == "success":
        return "success"
    if outcome == "denied":
        return "denied"
    if content.startswith("Timed out after"):
        return "timed_out"
    return "failed"


def _step_info(metadata: object, content: str) -> tuple[str, tuple[Source, ...]]:
    """The step's line and sources: what the tool said of itself (a ``ToolResult`` in the
    result's metadata, never sent to the model), else the start of what the model got."""
    summary = getattr(metadata, "summary", "")
    sources = getattr(metadata, "sources", ())
    if isinstance(summary, str) and summary:
        return _summary(summary), tuple(sources)
    return _summary(content), tuple(sources)


def _summary(content: str, limit: int = 120) -> str:
    line = " ".join(content.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
