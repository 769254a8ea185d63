"""What every tool call goes through, whoever wrote the tool: a timeout, a cap, a clear error.

A tool that hangs past its timeout, raises, or returns megabytes must not end the answer or
flood the model's window. :class:`GuardedToolset` wraps any pydantic-ai toolset (the registry's
function tools, an MCP server's) and turns each of those into a result the model can read and
the answer can go on from: ``Timed out after N seconds.``, ``The tool failed: …`` (details only
in the log, under a reference id), or the first part of the result with a note that it was cut.

pydantic-ai's own per-tool ``timeout=`` is not used: it raises ``ModelRetry``, which spends one
of the tool's retries, and a model that keeps calling a slow tool would end the whole run with
``UnexpectedModelBehavior``; ``ToolFailed`` reports the same words without spending a retry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import anyio
from pydantic_ai import RunContext
from pydantic_ai.exceptions import ApprovalRequired, CallDeferred, ModelRetry, ToolFailed
from pydantic_ai.messages import ToolReturn
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from bot.core.deps import AnswerDeps
from bot.core.redact import redact
from bot.core.references import new_reference
from bot.core.tools.result import ToolResult

log = logging.getLogger("teammate.tools")

DEFAULT_OUTPUT_CAP = 40_000
"""Characters of one tool result the model is given (about 10,000 tokens)."""

PASS_THROUGH = (ModelRetry, ToolFailed, ApprovalRequired, CallDeferred)
"""What a tool raises on purpose for pydantic-ai to act on; never turned into an error."""


class GuardedToolset(WrapperToolset[AnswerDeps]):
    """``wrapped`` with a timeout per call, a cap on results and failures turned into text."""

    def __init__(
        self,
        wrapped: AbstractToolset[AnswerDeps],
        *,
        timeout: float,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(wrapped)
        self.timeout = timeout
        self.output_cap = output_cap
        self.timeouts = dict(timeouts or {})

    async def call_tool(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AnswerDeps],
        tool: ToolsetTool[AnswerDeps],
    ) -> Any:
        limit = self.timeouts.get(name, self.timeout)
        try:
            with anyio.fail_after(limit):
                result = await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except TimeoutError:
            log.warning("tool %s timed out after %g s", name, limit)
            raise ToolFailed(f"Timed out after {limit:g} seconds.") from None
        except PASS_THROUGH:
            raise
        except Exception as exc:  # noqa: BLE001 - the model gets words, the log the detail
            reference = new_reference()
            log.error("tool %s failed ref=%s", name, reference, exc_info=True)
            detail = redact(str(exc))[:300] or type(exc).__name__
            raise ToolFailed(f"The tool failed: {detail} (reference {reference})") from None
        return capped(result, self.output_cap)


def capped(result: Any, cap: int) -> Any:
    """``result`` as the model will get it, cut to ``cap`` characters with a note if longer.

    A :class:`~bot.core.tools.result.ToolResult` becomes pydantic-ai's ``ToolReturn`` whose
    metadata (never sent to the model) carries the step's summary and sources.
    """
    if isinstance(result, ToolResult):
        return ToolReturn(return_value=cut(result.text, cap), metadata=result)
    if isinstance(result, ToolReturn):
        value = result.return_value
        if isinstance(value, str):
            result.return_value = cut(value, cap)
        return result
    if isinstance(result, str):
        return cut(result, cap)
    if result is None or isinstance(result, int | float | bool):
        return result
    try:
        text = json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(result)
    return result if len(text) <= cap else cut(text, cap)


def cut(text: str, cap: int) -> str:
    """``text``, or its first part and a note saying how much was left out."""
    if len(text) <= cap:
        return text
    kept = text[:cap]
    return (
        f"{kept}\n\n[The result was cut: the first {len(kept):,} of {len(text):,} characters "
        "are shown. Ask for less (a narrower query, a smaller limit) to see the rest.]"
    )
