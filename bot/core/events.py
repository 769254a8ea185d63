"""What the agent service streams while it answers.

Small frozen dataclasses, so the Slack side can draw them without knowing anything of
pydantic-ai or of a provider's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the visible answer, in Markdown."""

    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of the model's reasoning (shown only on request)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    call_id: str
    name: str
    args: dict


@dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the reader should know about the answer, e.g. that the thread was shortened
    or that a fallback model answered. Drawn in the footer."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one answer (all model requests it took)."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """The answer is complete. ``model_label`` is the name shown in the footer."""

    model_label: str
    usage: Usage
    fallback_from: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The answer could not be completed.

    ``message`` is short and safe to show a user; ``reference`` is the id of the log line that
    holds the detail. Text already streamed stays; the renderer ends it with this note.
    """

    message: str
    reference: str


AgentEvent = TextDelta | ThinkingDelta | ToolCall | ToolResult | Notice | Usage | Done | Failed
