"""The task's card: the channel message whose thread the task works in, redrawn as it goes.

Block Kit (a header line, the checklist, the replies the run took in, a context line with the
budget, and a Stop button while it works), since the card is a plain message updated with
chat.update; the streaming answer in the thread shows the same plan through Slack's plan
display.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.core.tasks.model import Steering, Task

STOP = "task_stop"
"""The Stop button's action id; its value is the task's short id."""
TAKEN_IN_SHOWN = 3
INTERRUPTED = "interrupted by a restart"

STATE_LABELS = {
    "queued": "⏳ Queued",
    "running": "▶️ Working",
    "waiting": "⏸️ Waiting for approval",
    "done": "✅ Done",
    "stopped": "⏹️ Stopped",
    "failed": "⚠️ Failed",
    "interrupted": "⚠️ Interrupted",
}
STEP_MARKS = {"pending": "◻️", "in_progress": "▶️", "done": "✅", "skipped": "⏭️"}


def card(
    task: Task, elapsed: float | None = None, taken_in: Sequence[Steering] = ()
) -> tuple[str, list[dict]]:
    """The card's fallback text and blocks; ``elapsed`` seconds of work so far, when known;
    ``taken_in`` the replies in the thread the run has read."""
    state = STATE_LABELS[task.state]
    text = f"Task `{task.short_id}` · {state}: {task.goal}"
    blocks: list[dict] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Task* `{task.short_id}` · {state}\n{task.goal}"},
        }
    ]
    if task.plan:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": checklist(task)}})
    if taken_in:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": steering(taken_in)}]}
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": status(task, elapsed)}]}
    )
    if not task.finished:
        stop = {
            "type": "button",
            "action_id": STOP,
            "value": task.short_id,
            "style": "danger",
            "text": {"type": "plain_text", "text": "Stop"},
        }
        blocks.append({"type": "actions", "block_id": "task_actions", "elements": [stop]})
    return text, blocks


def steering(taken_in: Sequence[Steering]) -> str:
    """A line per reply the run took in (the latest few)."""
    lines = []
    for reply in taken_in[-TAKEN_IN_SHOWN:]:
        said = reply.text if len(reply.text) <= 80 else reply.text[:79] + "…"
        lines.append(f"📨 Taken in: <@{reply.user}> “{said}”")
    return "\n".join(lines)


def checklist(task: Task) -> str:
    return "\n".join(f"{STEP_MARKS[step.status]} {step.title}" for step in task.plan)


def status(task: Task, elapsed: float | None = None) -> str:
    """One line: who asked, progress, the current step, time and tokens against the budget."""
    budget = task.budget
    parts = [f"for <@{task.requester}>"]
    if task.plan:
        parts.append(f"{task.steps_done()}/{len(task.plan)} steps")
    if (current := task.current_step()) is not None and not task.finished:
        parts.append(f"now: {current.title}")
    minutes = f"{budget.minutes:g} min"
    parts.append(f"{_duration(elapsed)} of {minutes}" if elapsed is not None else minutes)
    parts.append(f"{task.tokens_used:,} of {budget.tokens:,} tokens")
    if budget.cost_usd is not None:
        spent = task.cost_usd or 0.0
        parts.append(f"{dollars(spent)} of {dollars(budget.cost_usd)}")
    if task.state == "stopped" and task.stop_reason:
        parts.append(f"stopped: {task.stop_reason}")
    elif task.stop_requested and not task.finished:
        parts.append(f"stopping: {task.stop_requested}")
    if task.state == "interrupted":
        parts.append(INTERRUPTED)
    if task.state in {"failed", "interrupted"} and task.error_reference:
        parts.append(f"ref `{task.error_reference}`")
    return " · ".join(parts)


def cut_short(task: Task) -> str:
    """For the requester of a task whose process died before its card was posted."""
    return (
        f"Task `{task.short_id}` ({task.goal}) was {INTERRUPTED} before it started"
        f" (ref `{task.error_reference}`): it stopped with the process that was starting it,"
        " and nothing runs it. Start it again if it is still needed."
    )


def listing(tasks: list[Task]) -> str:
    """``/task list``: a line per task (id, goal, state, age, progress)."""
    if not tasks:
        return "No tasks here yet. Start one with `/task <goal>`."
    now = time.time()
    lines = []
    for task in tasks:
        progress = f" · {task.steps_done()}/{len(task.plan)} steps" if task.plan else ""
        goal = task.goal if len(task.goal) <= 60 else task.goal[:59] + "…"
        age = _duration(now - task.created_at)
        lines.append(f"`{task.short_id}` {STATE_LABELS[task.state]} · {goal} · {age} ago{progress}")
    return "\n".join(lines)


def dollars(amount: float) -> str:
    """Cents for dollars, a tenth of a cent below one (a task's spend is often that small)."""
    if amount >= 1 or amount == 0:
        return f"${amount:.2f}"
    whole, cents = f"{amount:.4f}".rstrip("0").split(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _duration(seconds: float | None) -> str:
    seconds = max(0, int(seconds or 0))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
