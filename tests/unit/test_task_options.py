"""Reading `/task` text: options before the goal, and "task:" at the start of a mention."""

from __future__ import annotations

from bot.core.tasks.model import Budget, BudgetLimits
from bot.slack.task_options import TaskAsk, parse_task, task_in_mention


def test_options_come_before_the_goal_and_the_goal_keeps_its_dashes() -> None:
    ask = parse_task("--minutes 5 --tokens 900 --cost $0.5 compare --verbose flags")
    assert ask == TaskAsk("compare --verbose flags", minutes=5.0, tokens=900, cost_usd=0.5)


def test_bad_options_are_named() -> None:
    assert parse_task("--tokens many go") == "`--tokens` needs a number, not `many`."
    assert parse_task("--minutes") == "`--minutes` needs a number."
    assert parse_task("--cost 0 go") == "`--cost` needs a number above zero."
    assert "What should the task do?" in str(parse_task("--minutes 3"))


def test_a_mention_starting_with_task_is_a_task() -> None:
    assert task_in_mention("<@U0BOT> Task: tidy the runbook") == "tidy the runbook"
    assert task_in_mention("<@U0BOT> what is a task: really?") is None


def test_budgets_fill_in_defaults_and_refuse_over_the_caps() -> None:
    limits = BudgetLimits(minutes=30, tokens=1000, max_tokens=5000, max_cost_usd=2.0)
    assert limits.budget(tokens=2000) == Budget(30, 2000, None)
    assert limits.budget(tokens=9000) == "A task may use at most 5,000 tokens here."
    assert limits.budget(cost_usd=3.0) == "A task may cost at most $2.00 here."
    assert "needs the model's prices" in str(limits.budget(cost_usd=1.0, priced=False))
