"""What a task is: its goal, where it works, its budgets, its plan and how far it got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.events import PlanStep

TaskState = Literal["queued", "running", "waiting", "done", "stopped", "failed", "interrupted"]
"""``waiting``: paused for an approval; it goes on after the click. ``interrupted``: the
process that ran it died (without durable runs, nothing resumes it)."""
FINISHED: frozenset[str] = frozenset({"done", "stopped", "failed", "interrupted"})


@dataclass(frozen=True, slots=True)
class Budget:
    """How long a task may work and how much it may spend; ``cost_usd`` None: no cost limit."""

    minutes: float
    tokens: int
    cost_usd: float | None = None


@dataclass(slots=True)
class Task:
    """One task as stored. ``card_ts`` is the card's message; the task works in its thread."""

    id: str
    short_id: str
    team_id: str
    channel: str
    requester: str
    goal: str
    budget: Budget
    state: TaskState = "queued"
    card_ts: str | None = None
    tokens_used: int = 0
    cost_usd: float | None = None
    plan: tuple[PlanStep, ...] = ()
    stop_reason: str | None = None
    error_reference: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    stop_requested: str | None = None
    """Who asked it to stop (a Stop click or ``/task cancel``, from any process), until it has."""
    started_at: float | None = None
    """When the work began: the time budget counts from here, across restarts."""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def steps_done(self) -> int:
        return sum(step.status in {"done", "skipped"} for step in self.plan)

    def current_step(self) -> PlanStep | None:
        return next((step for step in self.plan if step.status == "in_progress"), None)


@dataclass(frozen=True, slots=True)
class Steering:
    """A reply in a running task's thread: it reaches the run at its next model request."""

    id: int
    user: str
    text: str
    message_ts: str
    taken: bool = False

    def prompt(self) -> str:
        """How the run is told (the same words each time, so a run that has it can tell)."""
        return f"<@{self.user}> wrote in the task's thread while you work: {self.text}"


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """The budget a task gets when it does not ask, and the most it may ask for."""

    minutes: float = 30.0
    tokens: int = 200_000
    cost_usd: float | None = None
    max_minutes: float = 240.0
    max_tokens: int = 2_000_000
    max_cost_usd: float = 20.0

    def budget(
        self,
        minutes: float | None = None,
        tokens: int | None = None,
        cost_usd: float | None = None,
        *,
        priced: bool = True,
    ) -> Budget | str:
        """The budget asked for, with the defaults filling in; or the one line that refuses it
        (over a cap, or a cost limit for a model the catalog has no prices for)."""
        if minutes is not None and minutes > self.max_minutes:
            return f"A task may run at most {self.max_minutes:g} minutes here."
        if tokens is not None and tokens > self.max_tokens:
            return f"A task may use at most {self.max_tokens:,} tokens here."
        if cost_usd is not None and cost_usd > self.max_cost_usd:
            return f"A task may cost at most ${self.max_cost_usd:.2f} here."
        if cost_usd is not None and not priced:
            return (
                "`--cost` needs the model's prices, and the catalog has none for this model: "
                "limit the task with `--tokens` instead."
            )
        cost = cost_usd if cost_usd is not None else (self.cost_usd if priced else None)
        return Budget(minutes or self.minutes, tokens or self.tokens, cost)
