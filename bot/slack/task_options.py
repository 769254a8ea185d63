"""Reading ``/task`` text: a subcommand (list, show ID, cancel ID) or options then a goal.

``--minutes N``, ``--tokens N`` and ``--cost USD`` come before the goal; the first word that is
not an option starts it, so a goal may itself contain ``--``.
"""

from __future__ import annotations

from dataclasses import dataclass

OPTIONS = {"--minutes": float, "--tokens": int, "--cost": float}
SUBCOMMANDS = ("list", "show", "cancel")


@dataclass(frozen=True, slots=True)
class TaskAsk:
    goal: str
    minutes: float | None = None
    tokens: int | None = None
    cost_usd: float | None = None


def parse_task(text: str) -> TaskAsk | str:
    """The goal and options in ``text``; or the line saying what is wrong with them."""
    words = text.split()
    values: dict[str, float | int] = {}
    while words and words[0] in OPTIONS:
        name = words.pop(0)
        if not words:
            return f"`{name}` needs a number."
        raw = words.pop(0).lstrip("$")
        try:
            value = OPTIONS[name](raw)
        except ValueError:
            return f"`{name}` needs a number, not `{raw}`."
        if value <= 0:
            return f"`{name}` needs a number above zero."
        values[name] = value
    goal = " ".join(words)
    if not goal:
        return "What should the task do? Write the goal after the options."
    return TaskAsk(
        goal,
        minutes=values.get("--minutes"),
        tokens=int(values["--tokens"]) if "--tokens" in values else None,
        cost_usd=values.get("--cost"),
    )


def task_in_mention(text: str) -> str | None:
    """The task text of a mention that starts with "task:" (after the mention), else None."""
    words = text.strip()
    while words.startswith("<@"):
        words = words.split(">", 1)[-1].strip()
    if words.lower().startswith("task:"):
        return words[5:].strip()
    return None
