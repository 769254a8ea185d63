"""What an answer looks like, whatever carries it to Slack.

The view takes the core's events one by one and keeps what a person should see: the answer's
Markdown not yet sent, the steps of the work (thinking, tool calls, an approval waited for, the
plan, progress lines), the notices and usage for the footer (with "Show reasoning" when the
model reasoned and ``reasoning_id`` names where that is kept), and the error note of a failed
answer.
Every kind of event is handled here by name; the writer asks the view for text and steps and
never looks at an event.

Text arrives a token at a time, so it is kept as a list of pieces and joined only when the
writer takes it (once a second or so), never concatenated per token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never

from bot.core import wording
from bot.core.events import (
    AgentEvent,
    ApprovalNeeded,
    Done,
    Failed,
    Notice,
    Paused,
    PlanStep,
    PlanUpdated,
    Progress,
    Source,
    TextDelta,
    ThinkingDelta,
    ToolFinished,
    ToolStarted,
    Usage,
)
from bot.slack import blocks

StepState = Literal["pending", "in_progress", "complete", "error"]
"""Slack's task states (TaskUpdateChunk.status)."""

_PLAN_STATES: dict[str, StepState] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "done": "complete",
    "skipped": "complete",
}
_MARKS: dict[StepState, str] = {
    "pending": "⏸️",
    "in_progress": "⏳",
    "complete": "✅",
    "error": "⚠️",
}
PROGRESS_ID = "progress"
PLAN_ID = "plan"
THINKING_ID = "thinking"
MAX_SOURCES = 10


@dataclass
class Step:
    """One line of the work shown beside the answer (a Slack task while streaming)."""

    id: str
    title: str
    state: StepState
    output: str = ""
    sources: tuple[Source, ...] = ()

    def task_chunk(self) -> dict[str, Any]:
        """Slack's task_update chunk (slack_sdk's TaskUpdateChunk, as JSON)."""
        chunk: dict[str, Any] = {
            "type": "task_update",
            "id": self.id,
            "title": self.title,
            "status": self.state,
        }
        if self.output:
            chunk["output"] = self.output
        linked = [s for s in one_per_address(self.sources) if s.url]
        if linked:
            chunk["sources"] = [{"type": "url", "url": s.url, "text": s.title} for s in linked]
        return chunk

    def line(self) -> str:
        """The compact Markdown line drawn where task chunks are not available."""
        text = f"{_MARKS[self.state]} {self.title}"
        if self.output:
            text += f" — {self.output}"
        linked = [s for s in one_per_address(self.sources) if s.url]
        links = [f"[{s.title or s.url}]({s.url})" for s in linked]
        if links:
            text += " · " + ", ".join(links)
        return text


def one_per_address(sources: Iterable[Source]) -> list[Source]:
    """``sources`` in order, one per address, named as first seen: sections of one document
    share its address when its headings have no anchors, and one link to it says it all."""
    kept: dict[tuple[str, str], Source] = {}
    for source in sources:
        kept.setdefault(("url", source.url) if source.url else ("title", source.title), source)
    return list(kept.values())


def _cited(source: Source) -> str:
    title = _escaped(source.title or source.url or "")
    return f"<{source.url}|{title}>" if source.url else title


def _escaped(text: str) -> str:
    """Text safe inside mrkdwn: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class AnswerView:
    """The answer as a person sees it, built from the core's events."""

    text_parts: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    steps: dict[str, Step] = field(default_factory=dict)
    sources: dict[Source, None] = field(default_factory=dict)
    plan_title: str = ""
    model_label: str = ""
    usage: Usage | None = None
    failure: Failed | None = None
    reasoning_id: str | None = None
    thoughts: int = 0
    approvals: list[ApprovalNeeded] = field(default_factory=list)
    paused: Paused | None = None
    finished: bool = False
    first_content_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    _pending: list[str] = field(default_factory=list)
    _pending_size: int = 0
    _dirty: dict[str, int] = field(default_factory=dict)
    _sent: dict[str, int] = field(default_factory=dict)
    _changes: int = 0
    _thinking_step: str | None = None

    # -- events in ---------------------------------------------------------------------------

    def take(self, event: AgentEvent) -> None:
        match event:
            case TextDelta(text=text):
                self._end_thinking()
                self.text_parts.append(text)
                self._pending.append(text)
                self._pending_size += len(text)
            case ThinkingDelta(text=text):
                # The reasoning itself is shown only on request, never in the answer.
                if not text.strip() or not self._start_thinking():
                    return
            case ToolStarted(call_id=call_id, name=name, title=title):
                self._end_thinking()
                self._step(Step(call_id, title or f"Running {name}", "in_progress"))
            case ToolFinished(call_id=call_id, name=name, outcome=outcome):
                before = self.steps.get(call_id)
                ok = outcome == "success"
                self.sources.update(dict.fromkeys(event.sources))
                self._step(
                    Step(
                        call_id,
                        before.title if before else name,
                        "complete" if ok else "error",
                        event.summary or ("" if ok else outcome.replace("_", " ")),
                        event.sources,
                    )
                )
            case ApprovalNeeded(call_id=call_id, tool=tool):
                self.approvals.append(event)
                self._step(Step(call_id, f"Waiting for approval to run {tool}", "pending"))
            case PlanUpdated(steps=plan_steps, title=title):
                self._plan(title, plan_steps)
            case Progress(text=text):
                self._step(Step(PROGRESS_ID, text, "in_progress"))
            case Notice(text=text):
                self.notices.append(text)
                return
            case Usage():
                self.usage = event
                return
            case Done(model_label=label, usage=usage):
                self.model_label, self.usage = label, usage
                return
            case Paused(model_label=label, usage=usage):
                self.model_label, self.usage, self.paused = label, usage, event
                return
            case Failed(message=message, reference=reference):
                self.failure = event
                note = blocks.error_note(message, reference)
                self._pending.append(note)
                self._pending_size += len(note)
            case _:
                assert_never(event)
        if self.first_content_at is None:
            self.first_content_at = asyncio.get_running_loop().time()
        self.changed.set()

    def finish(self) -> None:
        """No more events: work still shown as running ends with the answer (in error if the
        answer failed); plan steps not yet begun, and calls waiting for approval in a paused
        answer, stay as they are."""
        waiting = {a.call_id for a in self.approvals} if self.paused else set()
        for step in list(self.steps.values()):
            kept = step.id.startswith(f"{PLAN_ID}-") or step.id in waiting
            if step.state == "in_progress" or (step.state == "pending" and not kept):
                failed = self.failure is not None and step.id != PROGRESS_ID
                ended: StepState = "error" if failed else "complete"
                self._step(Step(step.id, step.title, ended, step.output, step.sources))
        self.finished = True
        self.done.set()
        self.changed.set()

    def _start_thinking(self) -> bool:
        """Opens a "Thinking…" step unless one is open; each spell of thinking (before the
        answer, between tool calls) gets its own."""
        if self._thinking_step is not None:
            return False
        self.thoughts += 1
        self._thinking_step = f"{THINKING_ID}-{self.thoughts}"
        self._step(Step(self._thinking_step, wording.THINKING_STEP, "in_progress"))
        return True

    def _end_thinking(self) -> None:
        if self._thinking_step is not None:
            self._step(Step(self._thinking_step, wording.THINKING_STEP, "complete"))
            self._thinking_step = None

    def _step(self, step: Step) -> None:
        self.steps[step.id] = step
        self._changed_step(step.id)

    def _changed_step(self, step_id: str) -> None:
        self._changes += 1
        self._dirty[step_id] = self._changes

    def _plan(self, title: str, plan_steps: tuple[PlanStep, ...]) -> None:
        self.plan_title = title or self.plan_title or "Plan"
        for i, planned in enumerate(plan_steps, start=1):
            self._step(Step(f"{PLAN_ID}-{i}", planned.title, _PLAN_STATES[planned.status]))
        self._changed_step(PLAN_ID)

    # -- what the writer takes ---------------------------------------------------------------

    @property
    def status(self) -> str:
        return "failed" if self.failure else "paused" if self.paused else "done"

    @property
    def text(self) -> str:
        """The model's answer so far, as it wrote it."""
        if len(self.text_parts) > 1:
            self.text_parts[:] = ["".join(self.text_parts)]
        return self.text_parts[0] if self.text_parts else ""

    @property
    def pending_size(self) -> int:
        return self._pending_size

    def pending(self) -> str:
        """Text not yet in Slack (the model's, then the error note of a failed answer)."""
        if len(self._pending) > 1:
            self._pending[:] = ["".join(self._pending)]
        return self._pending[0] if self._pending else ""

    def consume(self, count: int) -> None:
        """The first ``count`` characters of ``pending()`` are in Slack now."""
        rest = self.pending()[count:]
        self._pending[:] = [rest] if rest else []
        self._pending_size = len(rest)

    def push_front(self, text: str) -> None:
        """Text the next message must begin with (a code fence reopened after a cut)."""
        self._pending.insert(0, text)
        self._pending_size += len(text)

    @property
    def has_step_updates(self) -> bool:
        return bool(self._dirty)

    def step_chunks(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Task chunks for the steps changed since last taken, and their ids (for ``taken``)."""
        chunks: list[dict[str, Any]] = []
        ids = list(self._dirty)
        self._sent.update(self._dirty)
        for step_id in ids:
            if step_id == PLAN_ID:
                chunks.append({"type": "plan_update", "title": self.plan_title})
            elif step_id in self.steps:
                chunks.append(self.steps[step_id].task_chunk())
        return chunks, ids

    def taken(self, ids: list[str]) -> None:
        """The chunks of ``ids`` are in Slack; a step that changed again while they were being
        sent (a tool finishing during the call) stays to be sent."""
        for step_id in ids:
            if step_id in self._dirty and self._dirty[step_id] == self._sent.get(step_id):
                del self._dirty[step_id]

    def step_lines(self, ids: list[str]) -> str:
        """The compact lines for ``ids`` (the plan's title first when it has one)."""
        lines = [f"*{self.plan_title}*" for step_id in ids if step_id == PLAN_ID]
        lines += [self.steps[i].line() for i in ids if i in self.steps]
        return "\n".join(lines)

    def footer(self) -> list[dict] | None:
        """The footer of a finished answer; a failed one ends with its error note instead.

        The part posted before the answer paused for approval gets its footer too, with the
        tokens that part took (each part is its own model run, recorded on its own in the
        usage log): the part after the decision may come much later, or after a restart, and
        the tokens are spent already. The feedback buttons stay with the part that ends it."""
        if self.failure is not None:
            return None
        reasoning = self.reasoning_id if self.thoughts else None
        footer = blocks.footer(
            self.model_label or "model",
            self.usage,
            self.notices,
            reasoning,
            feedback=self.paused is None,
        )
        return [*self.sources_line(), *footer]

    def sources_line(self) -> list[dict]:
        """The "Sources: …" line under the answer: what its steps drew on, once per address,
        linked where the source has a link; the thread the answer is in is left out."""
        shown = one_per_address(source for source in self.sources if source.cited)
        if not shown:
            return []
        cited = [_cited(source) for source in shown[:MAX_SOURCES]]
        text = "Sources: " + ", ".join(cited)
        return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}]

    def empty_note(self) -> str:
        if self.paused is not None:
            return wording.AWAITING_APPROVAL
        if self.failure is None:
            return wording.EMPTY_ANSWER
        return wording.NO_ANSWER
