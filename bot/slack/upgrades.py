"""A deploy that changes the step layout leaves no run stranded.

Runs are recorded under the build's application version, its release and step layout
(bot.core.durable.layout). A build whose layout changed cannot replay a run the earlier build
left: the steps it recorded are not the ones the new code asks for. At a start that runs
sessions (and in `teammate recover` for a gone executor), before DBOS resumes anything, each
run an earlier version left (bot.core.durable.stranded) is handled so that the thread ends as
it would have after a crash:

- **an answer** (``teammate.answer``; ``teammate.resume``, the part after its approvals),
  cut mid-run or never taken: started again from its start under this version, with the same
  id. Whoever takes it adopts its claim and, as in every take-over, deletes what the cut run
  had posted first: the thread ends with one complete answer. (A risky tool the cut run had
  called runs again: its record was of the other layout.)
- **a task** (``teammate.task``) cut mid-run: it cannot go on from its record, and running it
  again from the start could repeat what its tools wrote, so it is ended as interrupted (its
  card says so with a reference, the closing line says an upgrade interrupted it) and its
  workflow cancelled, with its turn on the tasks queue and an answer an older layout ran as
  its child. A task never taken (and a turn) is queued again under this version.

One log line per run handled says what became of it and from which version.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.durable.stranded import LeftRun, earlier_runs
from bot.core.references import new_reference
from bot.slack.task_runs import UPGRADED, TaskRuns

log = logging.getLogger("teammate.slack.upgrades")

PREFIX = "teammate."
TASK = "teammate.task"
TURN = "teammate.task.turn"
TASK_ID_PREFIX = "task:"


def _task_of(workflow_id: str) -> str | None:
    """The task a run belongs to (``task:<id>``, ``task:<id>:turn``, ``task:<id>:answer``)."""
    if not workflow_id.startswith(TASK_ID_PREFIX):
        return None
    return workflow_id[len(TASK_ID_PREFIX) :].split(":", 1)[0]


def _order(run: LeftRun) -> int:
    """Tasks first: whether a task was interrupted decides what becomes of its other runs."""
    return 0 if run.name == TASK else 1


class Upgrade:
    def __init__(
        self,
        database_url: str,
        version: str,
        tasks: TaskRuns | None,
        client: AsyncWebClient,
    ) -> None:
        self.database_url = database_url
        self.version = version
        self.tasks = tasks
        self.client = client

    async def handle(self, executor_id: str) -> list[str]:
        """Handle the runs earlier versions left (PENDING ones of ``executor_id``, ENQUEUED
        ones of any); the ids handled."""
        async with earlier_runs(self.database_url) as runs:
            left = sorted(await runs.left(executor_id, self.version, PREFIX), key=_order)
            ended: set[str] = set()
            for run in left:
                task_id = _task_of(run.workflow_id)
                if run.name == TASK and run.started and task_id is not None:
                    await runs.end(run)
                    ended.add(task_id)
                    await self._interrupt(run, task_id)
                elif task_id in ended or (run.name not in (TASK, TURN) and task_id is not None):
                    await runs.end(run)
                    log.info(
                        "%s (%s, version %s) belonged to an interrupted task: cancelled",
                        run.workflow_id,
                        run.name,
                        run.version,
                    )
                else:
                    await runs.restart(run, self.version)
                    log.info(
                        "%s (%s, %s under version %s) queued again from its start under %s",
                        run.workflow_id,
                        run.name,
                        "cut mid-run" if run.started else "never started",
                        run.version,
                        self.version,
                    )
            return [run.workflow_id for run in left]

    async def _interrupt(self, run: LeftRun, task_id: str) -> None:
        reference = new_reference()
        task = await self.tasks.store.interrupt(task_id, reference) if self.tasks else None
        log.warning(
            "%s (%s, version %s) cannot go on under %s: %s ref=%s",
            run.workflow_id,
            run.name,
            run.version,
            self.version,
            "ended as interrupted" if task is not None else "cancelled (the task had ended)",
            reference,
        )
        if task is not None and self.tasks is not None:
            await self.tasks.interrupted(self.client, task, UPGRADED)
