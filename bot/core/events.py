"""What the agent service streams while it answers.

Small frozen dataclasses, each with a ``kind`` literal (as pydantic-ai's own events carry
``event_kind``), so the Slack side can draw them without knowing anything of pydantic-ai or of
a provider's wire format, and can dispatch on them exhaustively::

    match event:
        case TextDelta(text=text): ...
        case ToolStarted() | ToolFinished(): ...
        ...
        case _:
            assert_never(event)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ToolOutcome = Literal["success", "failed", "denied", "timed_out"]
StepStatus = Literal["pending", "in_progress", "done", "skipped"]
Risk = Literal["read", "write", "external"]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the visible answer, in Markdown."""

    text: str
    kind: Literal["text"] = field(default="text", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of the model's reasoning (shown only on request)."""

    text: str
    kind: Literal["thinking"] = field(default="thinking", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a tool's result came from: a document, a message, a web page. ``cited`` is False
    for what the step links but the Sources line under the answer leaves out: the thread the
    answer is in (the person is reading it; citing it says nothing)."""

    title: str
    url: str | None = None
    cited: bool = True


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """The model called a tool; ``title`` is what a person reads while it runs."""

    call_id: str
    name: str
    args: dict[str, Any]
    title: str = ""
    kind: Literal["tool_started"] = field(default="tool_started", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A tool call ended. ``summary`` is one short line for the step; the model got more."""

    call_id: str
    name: str
    outcome: ToolOutcome
    summary: str = ""
    sources: tuple[Source, ...] = ()
    kind: Literal["tool_finished"] = field(default="tool_finished", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ApprovalNeeded:
    """A ``write`` or ``external`` tool call waits for the asker's decision; ``approval_id``
    names the decision to take (before ``expires_at``, epoch seconds, or it counts as Deny)."""

    call_id: str
    tool: str
    args: dict[str, Any]
    risk: Risk
    approval_id: str = ""
    expires_at: float = 0.0
    kind: Literal["approval_needed"] = field(default="approval_needed", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class PlanStep:
    title: str
    status: StepStatus = "pending"


@dataclass(frozen=True, slots=True)
class PlanUpdated:
    """The agent's checklist, whole (each update replaces the last)."""

    steps: tuple[PlanStep, ...]
    title: str = ""
    kind: Literal["plan"] = field(default="plan", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Progress:
    """A short status line for long work ("Reading 12 documents…")."""

    text: str
    kind: Literal["progress"] = field(default="progress", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the reader should know about the answer, e.g. that the thread was shortened
    or that a fallback model answered. Drawn in the footer."""

    text: str
    kind: Literal["notice"] = field(default="notice", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one answer (all model requests it took)."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    kind: Literal["usage"] = field(default="usage", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Done:
    """The answer is complete. ``model_label`` is the name shown in the footer."""

    model_label: str
    usage: Usage
    fallback_from: str | None = None
    kind: Literal["done"] = field(default="done", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Paused:
    """The answer stopped to wait for decisions on its ``ApprovalNeeded`` calls; once they are
    made it goes on (in a new message) from where it stopped."""

    run_id: str
    model_label: str
    usage: Usage
    kind: Literal["paused"] = field(default="paused", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Failed:
    """The answer could not be completed.

    ``message`` is short and safe to show a user; ``reference`` is the id of the log line that
    holds the detail. Text already streamed stays; the renderer ends it with this note.
    """

    message: str
    reference: str
    kind: Literal["failed"] = field(default="failed", init=False, repr=False)


AgentEvent = (
    TextDelta
    | ThinkingDelta
    | ToolStarted
    | ToolFinished
    | ApprovalNeeded
    | PlanUpdated
    | Progress
    | Notice
    | Usage
    | Done
    | Paused
    | Failed
)
