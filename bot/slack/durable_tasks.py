"""A task as a durable session: its own DBOS workflow, ``task:<task id>``.

Started with ``SetWorkflowID`` once its card is posted, so it can never start twice; its one
input is the task's id. The workflow rebuilds the task from its row each time it runs (plan,
tokens used, budget, its stored start), so after a crash it goes on from what the card
showed; it runs the answer in its own body (:func:`~bot.slack.durable_answers.
answer_in_workflow`: the answer's model requests and risky tool calls are the task
workflow's steps), then ends in a step of its own (state, card, closing line), so a restart
after the end does not post the report again; one cut in that step ends the task again, and
the closing line is looked for before it is posted (:mod:`bot.slack.task_runs`), so it shows
once. The answer is not a workflow of its own: a resumed workflow is queued again and may be
taken by any process, and the task's answer must run where its task is attached (its
budgets, plan, card painter).

Killed mid-task and started again with the same executor id, DBOS resumes the workflow: it
attaches the task again and its answer goes on in the card's thread, its completed requests
replayed, so the run is the task's from its first request (budgets, plan, stops, steering).

When workers run the sessions (TEAMMATE_SESSIONS=workers), the process that posts the card
(a `serve` replica, or a worker whose scheduler or answer started the task) only queues it:
first its turn (``task:<task id>:turn``) on the tasks queue, where at most
``TEAMMATE_MAX_TASKS`` tasks hold a place at once across every worker; the turn then queues the
task's workflow on the sessions queue in its workspace's partition (so the task counts against
``TEAMMATE_WORKSPACE_SESSIONS`` with the answers) and holds its place until the task ends.
Whichever worker takes the task's workflow attaches the task and runs its answer, inside it.

As for answers, DBOS finds workflows by name in a process-wide registry and a resumed
workflow gets only its stored input, so what a task needs is installed once at start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.durable import queues
from bot.core.store import Claim, ClaimOutcome
from bot.core.tasks.model import Task
from bot.slack.durable_answers import _request, answer_in_workflow
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.responder import Question
from bot.slack.work import WorkTracker

if TYPE_CHECKING:
    from bot.slack.task_runs import TaskRuns

log = logging.getLogger("teammate.slack.durable")

_installed: DurableTasks | None = None


def workflow_id(task_id: str) -> str:
    return f"task:{task_id}"


def turn_id(task_id: str) -> str:
    return f"{workflow_id(task_id)}:turn"


class DurableTasks:
    """Starts each task's workflow (or queues it for the workers), and runs the ones DBOS
    starts or resumes."""

    def __init__(
        self, runs: TaskRuns, client: AsyncWebClient, tracker: WorkTracker, *, queued: bool
    ) -> None:
        self.runs = runs
        self.client = client
        self.tracker = tracker
        self.queued = queued
        """Set when workers run the sessions: a task waits its turn on the tasks queue."""

    def install(self) -> None:
        """Make this the process's runner of task workflows (before DBOS launches)."""
        global _installed
        _installed = self

    async def start(self, task: Task) -> None:
        """Start the task's workflow, or queue its turn (a second start of the same task finds
        the first)."""
        if self.queued:
            await queues.enqueue_task(
                turn_workflow, task.id, task.team_id, workflow_id=turn_id(task.id)
            )
            return
        with SetWorkflowID(workflow_id(task.id)):
            await DBOS.start_workflow_async(task_workflow, task.id)

    async def run(self, task_id: str) -> None:
        """The workflow's body, counted as work in flight for a graceful stop."""
        async with self.tracker.busy():
            await self.runs.work(self.client, task_id, self._answer, _end)

    async def _answer(self, task: Task, target: ReplyTarget) -> ReplyOutcome | None:
        """The task's answer, in the task's workflow (its claim is the task's)."""
        claim = Claim(workflow_id(task.id), "", ClaimOutcome.NEW)
        question = Question(claim, self.client, target, text=task.goal)
        return await answer_in_workflow(_request(question))


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


@DBOS.workflow(name="teammate.task.turn")
async def turn_workflow(task_id: str, team_id: str) -> None:
    """A task's place among the ``TEAMMATE_MAX_TASKS`` running across the workers, held while
    the task runs as a session of its workspace; its id is ``task:<task id>:turn``."""
    await queues.enqueue_session(
        task_workflow, task_id, workflow_id=workflow_id(task_id), workspace=team_id
    )
    handle: WorkflowHandleAsync[None] = await DBOS.retrieve_workflow_async(workflow_id(task_id))
    await handle.get_result()
