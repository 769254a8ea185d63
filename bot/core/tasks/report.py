"""The words a task ends with when it stops early, built from its plan (no model request)."""

from __future__ import annotations

from bot.core.tasks.model import Task


def partial_report(task: Task, reason: str) -> str:
    """What was done and what was not, and why the task stopped: ``reason`` names the limit
    or who cancelled it."""
    done = [step.title for step in task.plan if step.status == "done"]
    left = [step.title for step in task.plan if step.status not in {"done", "skipped"}]
    lines = [f"*Stopped early:* {reason}. This is a partial report."]
    if done:
        lines.append("*Done:*\n" + "\n".join(f"• {title}" for title in done))
    if left:
        lines.append("*Not done:*\n" + "\n".join(f"• {title}" for title in left))
    if not done and not left:
        lines.append("No step of the plan was finished.")
    return "\n\n".join(lines)
