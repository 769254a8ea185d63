"""A task as a durable session: its own DBOS workflow, ``task:<task id>``.

Started with ``SetWorkflowID`` once its card is posted, so it can never start twice; its one
input is the task's id. The workflow rebuilds the task from its row each time it runs (plan,
tokens used, budget, its stored start), so after a crash it goes on from what the card
showed; it runs the answer as a child workflow (the answer workflow of
:mod:`bot.slack.durable_answers`, id ``task:<task id>:answer``), then ends in a step of its own
(state, card, closing line), so a restart after the end does not post the report again; one
cut in that step ends the task again, and the closing line is looked for before it is posted
(:mod:`bot.slack.task_runs`), so it shows once.

Killed mid-task and started again with the same executor id, DBOS resumes both workflows:
the task's waits for its answer, which goes on in the card's thread; the task was attached to
the live tasks before DBOS launched (:meth:`TaskRuns.restore`), so the resumed answer's run is
the task's from its first request (budgets, plan, stops, steering).

As for answers, DBOS finds workflows by name in a process-wide registry and a resumed
workflow gets only its stored input, so what a task needs is installed once at start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dbos import DBOS, SetWorkflowID
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store import Claim, ClaimOutcome
from bot.core.tasks.model import Task
from bot.slack.durable_answers import _request, answer_workflow
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.responder import Question
from bot.slack.work import WorkTracker

if TYPE_CHECKING:
    from bot.slack.task_runs import TaskRuns

log = logging.getLogger("teammate.slack.durable")

_installed: DurableTasks | None = None


def workflow_id(task_id: str) -> str:
    return f"task:{task_id}"


class DurableTasks:
    """Starts each task's workflow, and runs the ones DBOS starts or resumes."""

    def __init__(self, runs: TaskRuns, client: AsyncWebClient, tracker: WorkTracker) -> None:
        self.runs = runs
        self.client = client
        self.tracker = tracker

    def install(self) -> None:
        """Make this the process's runner of task workflows (before DBOS launches)."""
        global _installed
        _installed = self

    async def start(self, task_id: str) -> None:
        """Start the task's workflow (a second start of the same task finds the first)."""
        with SetWorkflowID(workflow_id(task_id)):
            await DBOS.start_workflow_async(task_workflow, task_id)

    async def run(self, task_id: str) -> None:
        """The workflow's body, counted as work in flight for a graceful stop."""
        async with self.tracker.busy():
            await self.runs.work(self.client, task_id, self._answer, _end)

    async def _answer(self, task: Task, target: ReplyTarget) -> ReplyOutcome | None:
        """The task's answer, as a child workflow (its claim is the task's)."""
        claim = Claim(workflow_id(task.id), "", ClaimOutcome.NEW)
        question = Question(claim, self.client, target, text=task.goal)
        with SetWorkflowID(f"{workflow_id(task.id)}:answer"):
            handle = await DBOS.start_workflow_async(answer_workflow, _request(question))
        return await handle.get_result()


def _runner() -> DurableTasks:
    if _installed is None:
        raise RuntimeError("no task runner installed: DurableTasks.install() runs at start")
    return _installed


@DBOS.step(name="teammate.task.end")
async def _end(task_id: str, outcome: ReplyOutcome | None) -> None:
    runner = _runner()
    await runner.runs.end(runner.client, task_id, outcome)


@DBOS.workflow(name="teammate.task")
async def task_workflow(task_id: str) -> None:
    """One task, from its slot to its closing report; its id is ``task:<task id>``."""
    await _runner().run(task_id)
