"""The part of an answer that runs after its approvals, as a durable run: a DBOS workflow of
its own, ``resume:<paused run id>``.

The decision that completes a paused run takes it for resuming once (a conditional update in
the core), and only that caller starts the workflow, with ``SetWorkflowID``: a second click or
a second replica that got that far would find the workflow and attach to it instead of
resuming again. Its one input is the paused run's id; the run, with its decisions, is read
back from its row each time the workflow runs.

The resumed answer runs in the workflow's body, not in one step, so whatever records model
requests and risky tool calls as steps inside a workflow does so here too. Its messages are
recorded under a claim with the workflow's id: killed mid-way and started again with the same
executor id, DBOS resumes the workflow, the claim comes back taken over and what the dead run
had posted is deleted before the answer is drawn again, so the thread ends with one complete
resumed answer.

It goes on only once the run that paused has ended (a step, ``teammate.resume.after``): a
decision clicked while that run is being replayed after a crash (in the second or so between a
restart and DBOS resuming it) would otherwise draw the part after the decision first, and the
replay would then draw the part before it again below. The replay draws its text, shows the
decided prompt as decided, and ends; then the resumed part is drawn under it.

When the paused run is a task's (its thread is a task card's, found in a step so that a replay
finds the same task whatever its state now), the workflow goes on as that task (budgets, plan,
stops) and ends it in a step of its own: the card's last drawing and the closing line come
once, at the end of the resumed part, however often the workflow ran (a replay cut in that
step ends the task again, and the closing line is looked for before it is posted). The task's
own workflow (``task:<task id>``) ended at the pause, leaving the task waiting.

When workers run the sessions (TEAMMATE_SESSIONS=workers), the replica that took the click
(or whose sweep timed the approval out) only queues the workflow on the sessions queue, in its
workspace's partition, and a worker runs it.

As for answers, DBOS finds workflows by name in a process-wide registry and a resumed workflow
gets only its stored input, so what a resume needs is installed once at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from dbos import DBOS, SetWorkflowID
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.approvals import Approvals, PausedRun
from bot.core.durable import queues
from bot.core.references import new_reference
from bot.core.store import ClaimStore
from bot.slack.reply import ReplyOutcome
from bot.slack.responder import Responder
from bot.slack.services import tell_something_went_wrong
from bot.slack.work import WorkTracker

if TYPE_CHECKING:
    from bot.slack.task_runs import TaskRuns

log = logging.getLogger("teammate.slack.durable")

_installed: DurableResumes | None = None
ORIGIN_WAIT = 60.0
"""Seconds a resume waits at most for the run that paused to end (one whose process is gone
and not coming back does not hold the answer up for longer)."""
ORIGIN_POLL = 0.2
_UNDER_WAY = {"PENDING", "ENQUEUED", "DELAYED"}


def workflow_id(run_id: str) -> str:
    return f"resume:{run_id}"


class DurableResumes:
    """Starts the workflow that resumes a paused run, and runs the ones DBOS resumes."""

    def __init__(
        self,
        approvals: Approvals,
        responder: Responder,
        claims: ClaimStore,
        client: AsyncWebClient,
        tracker: WorkTracker,
        tasks: TaskRuns | None,
        *,
        queued: bool = False,
    ) -> None:
        self.queued = queued
        """Set in a process that only acknowledges: a resume is queued for the workers."""
        self.approvals = approvals
        self.responder = responder
        self.claims = claims
        self.client = client
        self.tracker = tracker
        self.tasks = tasks
        self._started: set[str] = set()
        """Runs whose resume a decision in this process waits for (it holds a slot)."""

    def install(self) -> None:
        """Make this the process's resumer for the workflows DBOS runs or resumes."""
        global _installed
        _installed = self

    async def resume(self, run: PausedRun) -> None:
        """Resume ``run`` in its workflow (one that exists already is joined), or queue it for
        the workers in its workspace's partition."""
        if self.queued:
            await queues.enqueue_session(
                resume_workflow,
                run.id,
                workflow_id=workflow_id(run.id),
                workspace=run.scope.team_id,
            )
            return
        self._started.add(run.id)
        try:
            with SetWorkflowID(workflow_id(run.id)):
                handle = await DBOS.start_workflow_async(resume_workflow, run.id)
            await handle.get_result()
        finally:
            self._started.discard(run.id)

    async def run(self, run_id: str) -> None:
        """The workflow's body. Started by a decision here, that decision holds the slot;
        resumed after a crash, it counts as work in flight here and takes a slot."""
        if run_id in self._started:
            await self._go_on(run_id)
            return
        log.info("resuming the approved part of %s", run_id)
        async with self.tracker.busy(), self.tracker.slot():
            await self._go_on(run_id)

    async def _go_on(self, run_id: str) -> None:
        await _after_origin(run_id)
        run = await self.approvals.taken(run_id)
        if run is None:
            log.warning("no paused run %s to resume", run_id)
            return
        scope = run.scope
        task = None
        if self.tasks is not None:
            task_id = await _task_of(scope.channel_id, scope.thread_ts)
            task = await self.tasks.store.by_id(task_id) if task_id is not None else None
        if task is not None and self.tasks is not None:
            task = await self.tasks.store.begin(task.id) or task
            live = self.tasks.attach(self.client, task)
            live.new_run()
            await live.changed()
        outcome = await self._answer(run)
        if task is not None:
            await _end_task(task.id, outcome)

    async def _answer(self, run: PausedRun) -> ReplyOutcome | None:
        """The resumed answer under its claim; a failure is told in the thread."""
        claim = await self.claims.adopt(workflow_id(run.id))
        try:
            async with self.claims.held(claim):
                return await self.responder.resume(self.client, run, claim)
        except Exception:
            reference = new_reference()
            log.exception("resuming %s failed ref=%s", run.id, reference)
            scope = run.scope
            with contextlib.suppress(Exception):
                await tell_something_went_wrong(
                    self.client, scope.channel_id, scope.thread_ts, reference
                )
            return None


def _resumer() -> DurableResumes:
    if _installed is None:
        raise RuntimeError("no resumer installed: DurableResumes.install() runs at start")
    return _installed


@DBOS.step(name="teammate.resume.after")
async def _after_origin(run_id: str) -> None:
    """Wait until the durable run that paused ``run_id`` has ended (at most ORIGIN_WAIT), so
    that what it draws comes before what the resume draws. Recorded: a replay waits no more."""
    origin = await _resumer().approvals.origin(run_id)
    if not origin:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ORIGIN_WAIT
    while True:
        status = await DBOS.get_workflow_status_async(origin)
        if status is None or status.status not in _UNDER_WAY:
            return
        if loop.time() >= deadline:
            log.warning("resuming %s while %s is still %s", run_id, origin, status.status)
            return
        await asyncio.sleep(ORIGIN_POLL)


@DBOS.step(name="teammate.resume.task")
async def _task_of(channel: str, thread_ts: str) -> str | None:
    """The id of the task whose card's thread this is, if one is under way there: recorded, so
    a replay cut after the task's end was stored still goes on as that task and ends it."""
    tasks = _resumer().tasks
    task = await tasks.store.in_thread(channel, thread_ts) if tasks is not None else None
    return task.id if task is not None else None


@DBOS.step(name="teammate.resume.task_end")
async def _end_task(task_id: str, outcome: ReplyOutcome | None) -> None:
    resumer = _resumer()
    if resumer.tasks is not None:
        await resumer.tasks.end(resumer.client, task_id, outcome)


@DBOS.workflow(name="teammate.resume")
async def resume_workflow(run_id: str) -> None:
    """The part of a paused answer after its decisions; its id is ``resume:<run id>``."""
    await _resumer().run(run_id)
